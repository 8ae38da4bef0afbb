//! Step 6: pending publishers (spec §13). A match creates the project and turns the pending
//! publisher into an active one, which step 7 then finds.

use crate::error::{ErrorCode, MintError};
use crate::fixture::{Identity, PendingPublisher};
use crate::matching::{self, Failure, Token};
use crate::names::{is_stdlib, is_valid, normalize, ultranormalize};
use crate::repr::repr;
use crate::state::{ProjectRecord, PublisherRecord, State, new_id};

const HELP: &str = "https://pypi.org/help/";

/// What step 6 did when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reified {
    /// No pending publisher matched, for this reason; silently ignored (R-PEND-1).
    NoMatch(String),
    /// A pending publisher matched and this project was created (R-PEND-4).
    Created(String),
}

/// Runs step 6 against `state` (whose lock the caller holds).
pub fn reify(state: &mut State, token: &Token<'_>) -> Result<Reified, MintError> {
    let identities: Vec<&Identity> = state.pending.iter().map(|p| &p.identity).collect();
    let index = match matching::find(token, &identities) {
        Ok(index) => index,
        // R-DEF-3: the one failure that is not silent. Nothing changes.
        Err(Failure::Replayed) => return Err(MintError::reused_token()),
        // R-PEND-1: silently on to step 7.
        Err(Failure::NoMatch(reason)) => return Ok(Reified::NoMatch(reason)),
    };
    let project_name = state.pending[index].project_name.clone();
    if state.project_by_name(&project_name).is_some() {
        // R-PEND-2: the deletion persists although the request fails.
        state.pending.remove(index);
        return Err(MintError::new(
            ErrorCode::InvalidPendingPublisher,
            "valid token, but project already exists",
        ));
    }
    if let Some(refusal) = creation_refusal(state, &project_name) {
        return Err(MintError::new(ErrorCode::InvalidPayload, refusal));
    }
    let pending = state.pending.remove(index);
    create_project(state, pending);
    Ok(Reified::Created(project_name))
}

/// R-NAME-1, rows in order. Row 4 (the normalized name exists) cannot happen here: the caller
/// checked it under the same lock (R-PEND-2), so there is no race to lose.
fn creation_refusal(state: &State, name: &str) -> Option<String> {
    let n = repr(name);
    if state.flags.disallow_new_project_registration {
        return Some(format!(
            "New project registration temporarily disabled. See {HELP}#admin-intervention for more information."
        ));
    }
    if !is_valid(name) {
        return Some(format!("The name {n} is invalid."));
    }
    if is_stdlib(name) {
        return Some(format!(
            "The name {n} isn't allowed (conflict with Python Standard Library module name). See {HELP}#project-name for more information."
        ));
    }
    if state.prohibited.contains(&normalize(name)) {
        return Some(format!(
            "The name {n} isn't allowed. See {HELP}#project-name for more information."
        ));
    }
    let similar = ultranormalize(name);
    if state
        .projects
        .iter()
        .any(|p| ultranormalize(&p.name) == similar)
    {
        return Some(format!(
            "The name {n} is too similar to an existing project. See {HELP}#project-name for more information."
        ));
    }
    None
}

/// R-PEND-4.
fn create_project(state: &mut State, pending: PendingPublisher) {
    let project_id = new_id();
    state.projects.push(ProjectRecord {
        id: project_id.clone(),
        name: pending.project_name.clone(),
    });
    let similar = ultranormalize(&pending.project_name);
    state.pending.retain(|other| {
        other.added_by == pending.added_by || ultranormalize(&other.project_name) != similar
    });
    match state
        .publishers
        .iter_mut()
        .find(|p| same_publisher(&p.identity, &pending.identity))
    {
        Some(active) => active.projects.push(project_id),
        None => state.publishers.push(PublisherRecord {
            id: new_id(),
            identity: pending.identity,
            projects: vec![project_id],
        }),
    }
}

/// The key fields of spec §1.3, plus `issuer_url` for GitLab and `actor` for ActiveState
/// (R-PEND-4). GitHub's `repository_owner_id` is not one (spec §17 item 12).
fn same_publisher(a: &Identity, b: &Identity) -> bool {
    match (a, b) {
        (Identity::Github(a), Identity::Github(b)) => {
            (
                &a.repository_owner,
                &a.repository_name,
                &a.workflow_filename,
                &a.environment,
            ) == (
                &b.repository_owner,
                &b.repository_name,
                &b.workflow_filename,
                &b.environment,
            )
        }
        (Identity::Gitlab(a), Identity::Gitlab(b)) => {
            (
                &a.namespace,
                &a.project,
                &a.workflow_filepath,
                &a.environment,
                &a.issuer_url,
            ) == (
                &b.namespace,
                &b.project,
                &b.workflow_filepath,
                &b.environment,
                &b.issuer_url,
            )
        }
        (Identity::Google(a), Identity::Google(b)) => a == b,
        (Identity::ActiveState(a), Identity::ActiveState(b)) => a == b,
        _ => false,
    }
}
