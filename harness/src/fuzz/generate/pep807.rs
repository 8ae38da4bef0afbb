//! PEP 807 cases (`mintcheck fuzz --pep807`): the cases of [`super::case`] with a discovery
//! request before the mint, mostly for the upload path, and `features` in the mint body,
//! known, unknown and contradictory ones. Simplest first, as everywhere here.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::BoxedStrategy;

use crate::fuzz::case::{Case, Credential, MintBody, UploadTry};
use reference_registry::pep807::UPLOAD_PATH;

pub fn case() -> BoxedStrategy<Case> {
    (super::case(), discover(), features())
        .prop_map(|(mut case, discover, features)| {
            case.discover = discover;
            // A raw body says its own members.
            if matches!(case.mint.body, MintBody::Token(_)) {
                case.mint.features = features;
            }
            second_file(&mut case);
            case
        })
        .boxed()
}

/// With features asked for, or discovery asked (whose `default-features` may make the
/// credential single-use), a second file of the first project uploaded with the minted
/// credential, as a client uploading two files does: what a single-use credential must not
/// authorise (R-807-FEAT-1).
fn second_file(case: &mut Case) {
    if case.mint.features.is_none() && case.discover.is_none() {
        return;
    }
    let first = case
        .uploads
        .iter()
        .find(|u| u.credential == Credential::Minted)
        .cloned();
    if let Some(first) = first {
        case.uploads.push(UploadTry {
            version: "1.0.1".to_owned(),
            ..first
        });
    }
}

/// The upload path whose discovery is asked: mostly the target's, else an edge of the key
/// (empty, `/`, a space, a near miss).
fn discover() -> impl Strategy<Value = Option<String>> {
    let edges = select(vec![
        "",
        "/",
        "/legacy",
        "/legacy//",
        "/a b/",
        "/LEGACY/",
        "/simple/",
    ]);
    prop_oneof![
        2 => Just(None),
        6 => Just(Some(UPLOAD_PATH.to_owned())),
        2 => edges.prop_map(|path| Some(path.to_owned())),
    ]
}

fn features() -> impl Strategy<Value = Option<Vec<String>>> {
    let list = |names: &[&str]| Some(names.iter().map(|n| (*n).to_owned()).collect());
    prop_oneof![
        3 => Just(None),
        1 => Just(list(&[])),
        3 => Just(list(&["single-use-token"])),
        2 => Just(list(&["multi-use-token"])),
        1 => Just(list(&["single-use-token", "multi-use-token"])),
        1 => Just(list(&["forever-token"])),
    ]
}
