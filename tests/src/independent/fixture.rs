//! The fixture document as this registry reads it: its own types, read leniently (members it
//! does not know are ignored, as any foreign registry would).

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize)]
pub struct Fixture {
    pub mintcheck_fixture: u32,
    pub audience: Option<String>,
    #[serde(default)]
    pub flags: std::collections::BTreeMap<String, bool>,
    #[serde(default)]
    pub issuers: Vec<Issuer>,
    pub ca_pem: Option<String>,
    #[serde(default)]
    pub projects: Vec<Project>,
    #[serde(default)]
    pub publishers: Vec<Publisher>,
    #[serde(default)]
    pub pending_publishers: Vec<Pending>,
    #[serde(default)]
    pub used_jtis: Vec<UsedJti>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Issuer {
    pub provider: String,
    pub issuer: String,
    #[serde(default)]
    pub canonical: bool,
    pub discovery_url: Option<String>,
    pub jwks_url: Option<String>,
    pub jwks: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct Project {
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Publisher {
    pub projects: Vec<String>,
    pub identity: Identity,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Pending {
    pub project_name: String,
    pub identity: Identity,
}

#[derive(Debug, Deserialize)]
pub struct UsedJti {
    pub provider: String,
    pub jti: String,
}

/// Who may publish, per provider: the identity fields the spec's core rules name
/// (R-GH-1, R-GL-1, R-GOOG-1, R-AS-1).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum Identity {
    Github {
        repository_owner: String,
        repository_name: String,
        repository_owner_id: String,
        workflow_filename: String,
        #[serde(default)]
        environment: String,
    },
    Gitlab {
        namespace: String,
        project: String,
        workflow_filepath: String,
        #[serde(default)]
        environment: String,
        issuer_url: String,
    },
    Google {
        email: String,
        #[serde(default)]
        sub: String,
    },
    Activestate {
        organization: String,
        activestate_project_name: String,
        actor_id: String,
    },
}
