//! The environment variables a CI client reads to obtain an OIDC token.

use std::path::Path;

/// Ordered `NAME=value` pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientEnv {
    pub vars: Vec<(String, String)>,
}

impl ClientEnv {
    /// GitHub Actions: `GITHUB_ACTIONS`, `ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN`.
    pub fn github(request_url: &str, request_token: &str, ca: Option<&Path>) -> ClientEnv {
        let mut env = ClientEnv::default();
        env.set("GITHUB_ACTIONS", "true");
        env.set("ACTIONS_ID_TOKEN_REQUEST_URL", request_url);
        env.set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token);
        env.with_ca(ca)
    }

    /// GitLab CI: the token is handed over in `<AUD>_ID_TOKEN` (e.g. `PYPI_ID_TOKEN`).
    pub fn gitlab(audience: &str, token: &str, ca: Option<&Path>) -> ClientEnv {
        let mut env = ClientEnv::default();
        env.set("GITLAB_CI", "true");
        env.set(&gitlab_token_variable(audience), token);
        env.with_ca(ca)
    }

    fn with_ca(mut self, ca: Option<&Path>) -> ClientEnv {
        if let Some(ca) = ca {
            let ca = ca.display().to_string();
            for name in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"] {
                self.set(name, &ca);
            }
        }
        self
    }

    /// Sets `name`, in its place if it is already there, else at the end.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some((_, old)) => *old = value.to_owned(),
            None => self.vars.push((name.to_owned(), value.to_owned())),
        }
    }

    /// Points the variables that replace a client's trust roots (`SSL_CERT_FILE`,
    /// `REQUESTS_CA_BUNDLE`) at `bundle`, a file of the system's roots plus the CA, so the
    /// same shell still reaches real package indices. `NODE_EXTRA_CA_CERTS` adds to Node's
    /// roots and keeps the CA alone.
    pub fn trusting_bundle(mut self, bundle: &Path) -> ClientEnv {
        let bundle = bundle.display().to_string();
        for name in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"] {
            self.set(name, &bundle);
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A JSON object `{NAME: value}`, for scripts.
    pub fn to_json(&self) -> serde_json::Value {
        let vars = self
            .vars
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::from(v.as_str())));
        serde_json::Value::Object(vars.collect())
    }

    /// `export NAME='value'` lines for a POSIX shell.
    pub fn to_shell(&self) -> String {
        self.vars
            .iter()
            .map(|(name, value)| format!("export {name}='{}'\n", value.replace('\'', r"'\''")))
            .collect()
    }
}

/// The variable name GitLab uses for an ID token with this audience: upper case, and every
/// character that is not a letter or digit becomes `_`.
pub fn gitlab_token_variable(audience: &str) -> String {
    let name: String = audience
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}_ID_TOKEN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_variable_names_follow_the_audience() {
        assert_eq!(gitlab_token_variable("pypi"), "PYPI_ID_TOKEN");
        assert_eq!(gitlab_token_variable("test.pypi"), "TEST_PYPI_ID_TOKEN");
    }

    #[test]
    fn shell_export_quotes_values() {
        let env = ClientEnv::github("http://127.0.0.1:1/x?api-version=2.0", "it's", None);
        assert!(
            env.to_shell()
                .contains("export ACTIONS_ID_TOKEN_REQUEST_TOKEN='it'\\''s'\n")
        );
        assert_eq!(env.get("GITHUB_ACTIONS"), Some("true"));
        assert_eq!(env.get("SSL_CERT_FILE"), None);
    }
}
