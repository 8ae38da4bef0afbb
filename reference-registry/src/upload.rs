//! The legacy upload endpoint's decisions (spec §15), separate from multipart parsing.

use std::collections::HashMap;

use aws_lc_rs::digest;
use http::StatusCode;

use crate::api_token;
use crate::clock::Now;
use crate::macaroon::Macaroon;
use crate::repr::repr;
use crate::state::{FileRecord, State};

/// R-UP-1's message, verbatim.
pub const NON_USER_CANNOT_CREATE: &str = "Non-user identities cannot create new projects. This was probably caused by successfully using a pending publisher but specifying the project name incorrectly (either in the publisher or in your project's metadata). Please ensure that both match. See: https://docs.pypi.org/trusted-publishers/troubleshooting/";

const INVALID_AUTH: &str = "Invalid or non-existent authentication information. See https://pypi.org/help/#invalid-auth for more information.";

/// The parts of an upload form that matter here.
#[derive(Debug, Default)]
pub struct UploadForm {
    /// Text fields; a repeated field keeps its last value.
    pub fields: HashMap<String, String>,
    /// The `content` file: its name and bytes.
    pub file: Option<(String, Vec<u8>)>,
}

/// A refused upload: the status and the message PyPI puts in the reason phrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {message}")]
pub struct UploadError {
    pub status: StatusCode,
    pub message: String,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> UploadError {
    UploadError {
        status,
        message: message.into(),
    }
}

/// Checks and stores one upload. `password` is the Basic password given with user
/// `__token__` (`None`: no usable credentials).
pub fn upload(
    state: &mut State,
    password: Option<&str>,
    form: UploadForm,
    now: Now,
) -> Result<(), UploadError> {
    let macaroon = password
        .and_then(Macaroon::from_token)
        .ok_or_else(|| refuse(StatusCode::FORBIDDEN, INVALID_AUTH))?;
    if !state.tokens.contains_key(&macaroon.identifier) {
        return Err(refuse(StatusCode::FORBIDDEN, INVALID_AUTH));
    }
    let Checked {
        name,
        filename,
        sha256,
    } = check_form(&form)?;

    // R-UP-1: a trusted publisher cannot create a project, whatever else is wrong.
    let project = state
        .project_by_name(name)
        .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, NON_USER_CANNOT_CREATE))?;
    // R-UP-3, R-UP-4.
    api_token::check(state, &macaroon, project, now).map_err(|failures| {
        refuse(
            StatusCode::FORBIDDEN,
            format!("Invalid API Token: {}", failures.join(", ")),
        )
    })?;

    store(state, project, name, filename, sha256)?;
    // A single-use token is spent by the upload it authorised (R-807-FEAT-1); a refused
    // upload leaves it for the retry.
    if let Some(left) = state
        .tokens
        .get_mut(&macaroon.identifier)
        .and_then(|record| record.uploads_left.as_mut())
    {
        *left = left.saturating_sub(1);
    }
    Ok(())
}

/// Keeps the file, unless another of that name is there.
fn store(
    state: &mut State,
    project: usize,
    name: &str,
    filename: &str,
    sha256: String,
) -> Result<(), UploadError> {
    match state.files.get(filename) {
        // PyPI accepts an identical re-upload and stops there.
        Some(existing) if existing.sha256 == sha256 => return Ok(()),
        Some(_) => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "File already exists ({}, with sha256 hash {}). See https://pypi.org/help/#file-name-reuse for more information.",
                    repr(filename),
                    repr(&sha256)
                ),
            ));
        }
        None => {}
    }
    state
        .files
        .insert(filename.to_owned(), FileRecord { sha256 });
    // R-UP-2: the metadata spelling becomes the display name.
    state.projects[project].name = name.to_owned();
    Ok(())
}

/// What the form says, once it says enough: the metadata name, the file and its digest.
struct Checked<'a> {
    name: &'a str,
    filename: &'a String,
    sha256: String,
}

/// The form's fields and file, checked as PyPI checks them before looking at the project.
fn check_form(form: &UploadForm) -> Result<Checked<'_>, UploadError> {
    let field = |name: &str| {
        form.fields
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    };
    if field(":action") != "file_upload" {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!("Unknown :action {}", repr(field(":action"))),
        ));
    }
    let (name, version) = (field("name"), field("version"));
    if name.is_empty() || version.is_empty() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Invalid value for name or version: both are required.",
        ));
    }
    let Some((filename, content)) = form.file.as_ref().filter(|(f, _)| is_plain_filename(f)) else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Upload payload does not have a file.",
        ));
    };
    let sha256: String = digest::digest(&digest::SHA256, content)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let claimed = field("sha256_digest");
    if !claimed.is_empty() && !claimed.eq_ignore_ascii_case(&sha256) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "The digest supplied does not match a digest calculated from the uploaded file.",
        ));
    }
    Ok(Checked {
        name,
        filename,
        sha256,
    })
}

fn is_plain_filename(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != ".."
}
