//! Every fuzz target on stable, under plain `cargo test`: (a) the seeds built from the
//! recorded fixtures (`../shared/fixtures/upstream`), the golden files and the repository's
//! configs and auth files, (b) every committed crash input under `regressions/<target>/`, and
//! (c) deterministic mutations of the seeds (xorshift, fixed seed). This is how CI runs each
//! target briefly; `scripts/fuzz` runs them coverage-guided for as long as you like.
//!
//! `FUZZ_REPLAY_MUTATIONS` changes the number of mutations per target (default 200).

#![expect(
    clippy::expect_used,
    reason = "test: a missing fixture or regressions tree must fail loudly"
)]

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use switchyard_fuzzing::seeds::Seeds;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| switchyard_fuzzing::seeds::seeds(&root()))
}

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Fragments that take parsers down rare paths.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"-1",
    b"0",
    b"18446744073709551616",
    b"1e999",
    b"-0.0",
    b"\"\\ud800\"",
    b"\\u0000",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"data: ",
    b"event: ",
    b"data: [DONE]\n\n",
    b"\xff",
    b"\xe2\x82",
    b"\"type\":",
    b"\"index\":",
    b"\"usage\":{",
    b"\x00",
    b"*",
    b".",
];

/// One mutation of `input` (a few edits), sometimes crossed with `other`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        let at = rng.below(len + 1);
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.next() as u8),
            2 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                out.drain(at.min(len - 1)..end);
            }
            3 if len > 0 => {
                let from = rng.below(len);
                let end = (from + 1 + rng.below(64)).min(len);
                let piece = out[from..end].to_vec();
                out.splice(at..at, piece);
            }
            4 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, t.iter().copied());
            }
            5 => out.truncate(at),
            6 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(256)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                // Byte 0 of stream inputs: chunking and options.
                if let Some(b) = out.first_mut() {
                    *b = rng.next() as u8;
                }
            }
        }
    }
    out
}

fn run_one(name: &str, target: fn(&[u8]), input: &[u8], what: &str) {
    if let Err(e) = catch_unwind(AssertUnwindSafe(|| target(input))) {
        let shown = String::from_utf8_lossy(&input[..input.len().min(2048)]);
        eprintln!(
            "target {name} failed on {what} ({} bytes): {shown:?}",
            input.len()
        );
        resume_unwind(e);
    }
}

fn replay(name: &str) {
    let (_, target) = switchyard_fuzzing::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .copied()
        .expect("a target of TARGETS");
    let seeds = seeds().get(name).expect("seeds for every target");
    assert!(
        !seeds.is_empty(),
        "no seeds for {name}: is ../shared/fixtures/upstream there?"
    );
    for (i, seed) in seeds.iter().enumerate() {
        run_one(name, target, seed, &format!("seed {i}"));
    }
    let dir = root().join("fuzzing/regressions").join(name);
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).expect("a readable regression input");
            run_one(name, target, &bytes, &f.display().to_string());
        }
    }
    let count = std::env::var("FUZZ_REPLAY_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200usize);
    // Small seeds only: mutations are about odd bytes, not big documents.
    let small: Vec<&Vec<u8>> = seeds.iter().filter(|s| s.len() <= 8 << 10).collect();
    let pool = if small.is_empty() {
        seeds.iter().collect()
    } else {
        small
    };
    let mut rng = Rng(0x5eed_f00d_u64 ^ name.len() as u64);
    for i in 0..count {
        let a = pool[rng.below(pool.len())];
        let b = pool[rng.below(pool.len())];
        let input = mutate(&mut rng, a, b);
        run_one(name, target, &input, &format!("mutation {i}"));
    }
}

macro_rules! replay_tests {
    ($($name:ident)*) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )*

        /// A target added to TARGETS without a test here fails.
        #[test]
        fn every_target_is_replayed() {
            let tested = [$(stringify!($name)),*];
            for (name, _) in switchyard_fuzzing::TARGETS {
                assert!(tested.contains(name), "{name} has no replay test");
            }
        }
    };
}

replay_tests! {
    sse
    usage_chunk
    openai_chat_request
    openai_responses_request
    anthropic_request
    gemini_request
    openai_chat_response
    openai_responses_response
    anthropic_response
    gemini_response
    openai_chat_stream
    openai_responses_stream
    anthropic_stream
    gemini_stream
    codeassist
    config
    config_edit
    json_path
    payload
    body_validate
    auth_file
    management_bodies
}
