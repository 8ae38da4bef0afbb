//! What a real index checks of an uploaded file before anything else: that it is the
//! archive it claims to be.

use std::io::Read as _;

use rsa::sha2::{Digest, Sha256};

use super::state::{Upload, normalize};

/// A gzip'd tar holding `<folder>/PKG-INFO` whose `Name` and `Version` are the form's, and
/// whose SHA-256 is the form's `sha256_digest`; otherwise why not.
pub fn check(upload: &Upload) -> Result<(), String> {
    let digest: String = Sha256::digest(&upload.content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if digest != upload.sha256 {
        return Err("the file's SHA-256 is not the form's sha256_digest".into());
    }
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(upload.content.as_slice()));
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar.gz: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("not a tar.gz: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| e.to_string())?
            .display()
            .to_string();
        if path.split('/').count() != 2 || !path.ends_with("/PKG-INFO") {
            continue;
        }
        let mut metadata = String::new();
        entry
            .read_to_string(&mut metadata)
            .map_err(|e| format!("PKG-INFO: {e}"))?;
        let field = |name: &str| {
            metadata
                .lines()
                .find_map(|line| line.strip_prefix(&format!("{name}: ")))
                .unwrap_or_default()
                .to_owned()
        };
        if normalize(&field("Name")) != normalize(&upload.name) {
            return Err(format!(
                "PKG-INFO names {:?}, the form {:?}",
                field("Name"),
                upload.name
            ));
        }
        if field("Version") != upload.version {
            return Err(format!(
                "PKG-INFO has version {:?}, the form {:?}",
                field("Version"),
                upload.version
            ));
        }
        return Ok(());
    }
    Err("no PKG-INFO in the archive".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(content: &[u8], name: &str, version: &str) -> Upload {
        let sha256 = Sha256::digest(content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Upload {
            name: name.into(),
            version: version.into(),
            sha256,
            content: content.to_vec(),
        }
    }

    #[test]
    fn only_the_archive_the_form_describes_passes() {
        let sdist = mintcheck::rig::upload::sdist("Widgetry", "1.0.0");
        assert_eq!(check(&upload(&sdist, "widgetry", "1.0.0")), Ok(()));
        assert!(
            check(&upload(&sdist, "gadgetry", "1.0.0"))
                .unwrap_err()
                .contains("PKG-INFO names")
        );
        assert!(
            check(&upload(&sdist, "widgetry", "2.0"))
                .unwrap_err()
                .contains("version")
        );
        assert!(
            check(&upload(b"a text file", "widgetry", "1.0.0"))
                .unwrap_err()
                .starts_with("not a tar.gz")
        );
        let mut wrong_digest = upload(&sdist, "widgetry", "1.0.0");
        wrong_digest.sha256 = "00".repeat(32);
        assert!(check(&wrong_digest).unwrap_err().contains("SHA-256"));
    }
}
