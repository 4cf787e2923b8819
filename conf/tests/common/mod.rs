//! Helpers shared by the `load_str` integration tests.

use switchyard_conf::{load_str, Loaded};

/// Loads `yaml`, panicking with every problem if it does not load.
pub fn ok(yaml: &str) -> Loaded {
    match load_str(yaml) {
        Ok(loaded) => loaded,
        Err(problems) => panic!("unexpected problems: {problems:#?}"),
    }
}

/// Every problem rendered as `path: message`; panics if `yaml` loads.
pub fn problems(yaml: &str) -> Vec<String> {
    match load_str(yaml) {
        Ok(loaded) => panic!("expected problems, loaded {loaded:#?}"),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}
