//! The suite built into the binary (`harness/build.rs`): what `mintcheck run` runs unless
//! `--scenarios` names a folder.

use std::borrow::Cow;
use std::path::PathBuf;

use super::load::SourceFile;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/embedded_scenarios.rs"));
}

/// The JSON Schema of a scenario file, as built in.
pub const SCHEMA: &str = include_str!("../../embedded/scenarios/schema/scenario.schema.json");

/// Every built-in scenario file, in path order. Errors name them
/// `(built in) scenarios/<id>.toml`.
pub fn sources() -> Vec<SourceFile> {
    generated::FILES
        .iter()
        .map(|(id, text)| SourceFile {
            id: (*id).to_owned(),
            path: PathBuf::from(format!("(built in) scenarios/{id}.toml")),
            text: Cow::Borrowed(text),
        })
        .collect()
}

/// How many scenarios are built in, and a digest of their files (IDs and bytes): two
/// binaries with the same digest run the same suite.
pub fn version() -> String {
    format!(
        "{} scenarios, digest {}",
        generated::FILES.len(),
        generated::DIGEST
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::{load_sources, read_folder};

    #[test]
    fn the_built_in_suite_is_the_scenarios_folder() {
        let folder = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
        let on_disk = read_folder(folder).unwrap();
        let built_in = sources();
        let pairs = |files: &[SourceFile]| -> Vec<(String, String)> {
            files
                .iter()
                .map(|f| (f.id.clone(), f.text.clone().into_owned()))
                .collect()
        };
        assert_eq!(pairs(&built_in), pairs(&on_disk));
        assert!(load_sources(&built_in).is_ok());
        assert!(version().starts_with(&format!("{} scenarios, digest ", on_disk.len())));
    }
}
