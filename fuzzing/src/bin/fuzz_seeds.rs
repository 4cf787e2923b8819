//! Writes the seed corpora of every fuzz target: `fuzz-seeds <repo-root> <out-dir>` creates
//! `<out-dir>/<target>/seed-NNNN` files (see `switchyard_fuzzing::seeds`). `scripts/fuzz`
//! runs it; the output is generated, never committed.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root, out] = args.as_slice() else {
        eprintln!("usage: fuzz-seeds <repo-root> <out-dir>");
        return ExitCode::FAILURE;
    };
    let out = PathBuf::from(out);
    for (target, seeds) in switchyard_fuzzing::seeds::seeds(&PathBuf::from(root)) {
        let dir = out.join(target);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("{}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        for (i, seed) in seeds.iter().enumerate() {
            let path = dir.join(format!("seed-{i:04}"));
            if let Err(e) = std::fs::write(&path, seed) {
                eprintln!("{}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
        eprintln!("{target}: {} seeds", seeds.len());
    }
    ExitCode::SUCCESS
}
