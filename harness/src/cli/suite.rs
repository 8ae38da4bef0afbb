//! Which scenario files a command reads: the suite built into the binary, or a folder the
//! user names, plus folders of extra scenarios. Never a `scenarios/` folder found by
//! chance in the working directory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;

use mintcheck::scenario::embedded;
use mintcheck::scenario::load::{SourceFile, read_folder};

use super::UsageError;

#[derive(Clone, Debug, clap::Args)]
pub struct SuiteArgs {
    /// Run the scenarios in DIR instead of the suite built into mintcheck (in this
    /// repository: `--scenarios scenarios` for files edited since the last build).
    #[arg(long, value_name = "DIR", env = "MINTCHECK_SCENARIOS")]
    pub scenarios: Option<PathBuf>,
    /// Also run the scenarios in DIR (repeatable), such as the fuzzer's findings; an ID
    /// that is already in the suite is an error.
    #[arg(long = "add-scenarios", value_name = "DIR")]
    pub add_scenarios: Vec<PathBuf>,
}

impl SuiteArgs {
    /// The scenario files, and where they came from for messages.
    pub fn sources(&self) -> Result<(Vec<SourceFile>, String), UsageError> {
        let (mut files, mut origin) = match &self.scenarios {
            Some(folder) => (read(folder)?, folder.display().to_string()),
            None => (
                embedded::sources(),
                format!("the built-in suite ({})", embedded::version()),
            ),
        };
        let mut seen: BTreeMap<String, PathBuf> = files
            .iter()
            .map(|f| (f.id.clone(), f.path.clone()))
            .collect();
        for folder in &self.add_scenarios {
            for file in read(folder)? {
                if let Some(first) = seen.insert(file.id.clone(), file.path.clone()) {
                    return Err(UsageError(format!(
                        "{}: scenario ID `{}` is already {}; rename the file (its path is its ID)",
                        file.path.display(),
                        file.id,
                        first.display()
                    )));
                }
                files.push(file);
            }
            origin.push_str(&format!(" + {}", folder.display()));
        }
        Ok((files, origin))
    }
}

fn read(folder: &std::path::Path) -> Result<Vec<SourceFile>, UsageError> {
    read_folder(folder).map_err(|e| UsageError(e.to_string()))
}

/// `mintcheck --version`: the tool's version, the built-in suite's and the spec's.
pub static LONG_VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}\nsuite: {}\nspec: {}",
        env!("CARGO_PKG_VERSION"),
        embedded::version(),
        mintcheck::spec::rules::revision()
    )
});
