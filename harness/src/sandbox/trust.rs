//! The trust bundle a sandbox job's shell points `SSL_CERT_FILE` and `REQUESTS_CA_BUNDLE`
//! at: the system's roots followed by the sandbox CA. Those variables replace a client's
//! roots rather than add to them, so pointing them at the CA alone would break every other
//! https request of the job (`pip install` from the real index).

use std::path::{Path, PathBuf};

use tempfile::TempPath;

#[derive(Debug, thiserror::Error)]
#[error("writing the sandbox's trust bundle: {0}")]
pub struct TrustError(#[source] std::io::Error);

/// A temporary PEM file, deleted on drop.
#[derive(Debug)]
pub struct TrustBundle {
    file: TempPath,
    system_roots: Option<PathBuf>,
}

impl TrustBundle {
    /// The system's roots (where OpenSSL would look: `SSL_CERT_FILE` if it names a file,
    /// else the distribution's bundle) and then `ca_pem`. Without system roots, the CA alone.
    pub fn write(ca_pem: &str) -> Result<TrustBundle, TrustError> {
        let system_roots = openssl_probe::probe().cert_file;
        let mut text = match &system_roots {
            Some(path) => std::fs::read_to_string(path).map_err(TrustError)?,
            None => String::new(),
        };
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(ca_pem);
        let file = tempfile::Builder::new()
            .prefix("mintcheck-trust-")
            .suffix(".pem")
            .tempfile()
            .map_err(TrustError)?;
        std::fs::write(file.path(), text).map_err(TrustError)?;
        Ok(TrustBundle {
            file: file.into_temp_path(),
            system_roots,
        })
    }

    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The file the system's roots were read from; `None` if none was found.
    pub fn system_roots(&self) -> Option<&Path> {
        self.system_roots.as_deref()
    }
}
