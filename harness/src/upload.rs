//! The legacy upload form (`POST /legacy/`, `:action=file_upload`) with a small generated
//! source distribution, as twine sends it.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::scenario::model::UploadSpec;
use crate::transport::Outgoing;

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

/// The upload request; `token` is the already substituted API token.
pub fn request(base_url: &str, spec: &UploadSpec, token: &str) -> Outgoing {
    let filename = sdist_filename(&spec.name, &spec.version);
    // Content unique per name and version, so re-uploads are detected by hash.
    let content = format!(
        "mintcheck test distribution {} {}\n",
        spec.name, spec.version
    )
    .into_bytes();
    let sha256: String = digest(&SHA256, &content)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let fields = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("metadata_version", "2.1"),
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
    fn the_form_carries_the_token_and_the_file() {
        let spec = UploadSpec {
            name: "Sprocket".into(),
            version: "1.0.0".into(),
            token: String::new(),
        };
        let request = request("http://127.0.0.1:1", &spec, "pypi-abc");
        let body = String::from_utf8(request.body.unwrap()).unwrap();
        assert!(body.contains("name=\":action\"\r\n\r\nfile_upload\r\n"));
        assert!(body.contains("filename=\"sprocket-1.0.0.tar.gz\""));
        let auth = &request.headers[1].1;
        assert_eq!(
            STANDARD.decode(auth.trim_start_matches("Basic ")).unwrap(),
            b"__token__:pypi-abc"
        );
    }
}
