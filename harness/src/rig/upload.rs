//! The legacy upload form (`POST /legacy/`, `:action=file_upload`) with a small generated
//! source distribution, as twine sends it.

use std::sync::{Arc, LazyLock};

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::kept::Kept;
use crate::rig::transport::Outgoing;
use crate::scenario::model::UploadSpec;

const BOUNDARY: &str = "mintcheck-upload-boundary-7d41a3c6";

/// The sdist file name for a project name and version (PEP 625: `_` for runs of `-_.`).
pub fn sdist_filename(name: &str, version: &str) -> String {
    let mut normalized = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !normalized.ends_with('_') {
                normalized.push('_');
            }
        } else {
            normalized.push(c.to_ascii_lowercase());
        }
    }
    format!("{normalized}-{version}.tar.gz")
}

/// A source distribution of `name` `version`, as `python -m build --sdist` makes one: a
/// gzip'd tar whose one folder (`{name}-{version}`, normalized) holds `PKG-INFO` (Metadata
/// 2.2) and `pyproject.toml`. Indices look inside before they check permissions, so the
/// archive must be real. The bytes depend on the name and version alone (times are zero),
/// so a re-upload is the same file, and the last few made are kept: setting a compressor
/// up costs more than a signature, and a suite run uploads a handful of names many times.
pub fn sdist(name: &str, version: &str) -> Arc<[u8]> {
    /// Archives by name and version.
    type Archives = Kept<(String, String), Arc<[u8]>>;
    static MADE: LazyLock<Archives> = LazyLock::new(|| Kept::new(64));
    let key = (name.to_owned(), version.to_owned());
    let made = MADE.get_or_make(&key, || {
        Ok::<_, std::convert::Infallible>(build_sdist(name, version).into())
    });
    made.unwrap_or_else(|never| match never {})
}

fn build_sdist(name: &str, version: &str) -> Vec<u8> {
    let stem = sdist_filename(name, version);
    let folder = stem.trim_end_matches(".tar.gz");
    let pkg_info = format!(
        "Metadata-Version: 2.2\nName: {name}\nVersion: {version}\nSummary: A test distribution made by mintcheck\n"
    );
    let pyproject = format!(
        "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"{name}\"\nversion = \"{version}\"\n"
    );
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    let mut archive = tar::Builder::new(gzip);
    for (file, text) in [("PKG-INFO", pkg_info), ("pyproject.toml", pyproject)] {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        // Writing into memory cannot fail.
        let _ = archive.append_data(&mut header, format!("{folder}/{file}"), text.as_bytes());
    }
    archive
        .into_inner()
        .and_then(|gzip| gzip.finish())
        .unwrap_or_default()
}

/// The upload request; `token` is the already substituted API token.
pub fn request(base_url: &str, spec: &UploadSpec, token: &str) -> Outgoing {
    let filename = sdist_filename(&spec.name, &spec.version);
    let content = sdist(&spec.name, &spec.version);
    let sha256: String = digest(&SHA256, &content)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let fields = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("metadata_version", "2.2"),
        ("name", spec.name.as_str()),
        ("version", spec.version.as_str()),
        ("filetype", "sdist"),
        ("pyversion", "source"),
        ("sha256_digest", sha256.as_str()),
    ];
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let credentials = STANDARD.encode(format!("__token__:{token}"));
    Outgoing {
        method: "POST".into(),
        url: format!("{base_url}/legacy/"),
        headers: vec![
            (
                "content-type".into(),
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
            ("authorization".into(), format!("Basic {credentials}")),
        ],
        body: Some(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdist_names_are_normalized() {
        assert_eq!(
            sdist_filename("My.Cool--Project", "1.0"),
            "my_cool_project-1.0.tar.gz"
        );
    }

    #[test]
    fn the_sdist_is_a_real_archive_whose_metadata_matches_the_form() {
        use std::io::Read as _;
        let bytes = build_sdist("My.Cool--Project", "2.0");
        assert_eq!(
            bytes,
            build_sdist("My.Cool--Project", "2.0"),
            "deterministic"
        );
        assert_ne!(bytes, build_sdist("My.Cool--Project", "2.1"));
        assert_eq!(*sdist("My.Cool--Project", "2.0"), *bytes, "kept as made");
        assert_eq!(*sdist("My.Cool--Project", "2.0"), *bytes);
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut files = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().display().to_string();
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            files.push((path, text));
        }
        assert_eq!(files[0].0, "my_cool_project-2.0/PKG-INFO");
        assert!(
            files[0]
                .1
                .starts_with("Metadata-Version: 2.2\nName: My.Cool--Project\nVersion: 2.0\n")
        );
        assert_eq!(files[1].0, "my_cool_project-2.0/pyproject.toml");
        assert!(files[1].1.contains("name = \"My.Cool--Project\""));
    }

    #[test]
    fn the_form_carries_the_token_and_the_file() {
        let spec = UploadSpec {
            name: "Sprocket".into(),
            version: "1.0.0".into(),
            token: String::new(),
        };
        let request = request("http://127.0.0.1:1", &spec, "pypi-abc");
        let body = String::from_utf8_lossy(&request.body.unwrap()).into_owned();
        assert!(body.contains("name=\":action\"\r\n\r\nfile_upload\r\n"));
        let sdist_sha: String = digest(&SHA256, &sdist("Sprocket", "1.0.0"))
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            body.contains(&format!("name=\"sha256_digest\"\r\n\r\n{sdist_sha}\r\n")),
            "the digest is the archive's"
        );
        assert!(body.contains("filename=\"sprocket-1.0.0.tar.gz\""));
        let auth = &request.headers[1].1;
        assert_eq!(
            STANDARD.decode(auth.trim_start_matches("Basic ")).unwrap(),
            b"__token__:pypi-abc"
        );
    }
}
