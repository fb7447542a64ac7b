//! Requests that differ every time, as k6 and ghz users write them:
//! `{{request_number}}` (0, 1, 2, ... over the run), `{{uuid}}` (a random
//! v4 UUID) and `{{random_string N}}` (N random letters and digits), in a
//! URL's path and query, an HTTP body, or a gRPC request's JSON (`-d`).
//! A template is compiled once, into literal runs and placeholders;
//! rendering one request appends them to a buffer. A request without a
//! placeholder is not a template at all: it is prepared once, as before,
//! and costs nothing per request.

use rand::Rng;
use rand::distr::Alphanumeric;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(Vec<u8>),
    RequestNumber,
    Uuid,
    RandomString(usize),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{{{{{placeholder}}}}}' is not a template placeholder: use {{{{request_number}}}}, {{{{uuid}}}} or {{{{random_string N}}}}"
)]
pub struct TemplateError {
    placeholder: String,
}

impl Template {
    /// `text` compiled, or None when it has no placeholder (`{{`).
    pub fn compile(text: &[u8]) -> Result<Option<Template>, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut found = false;
        while let Some(open) = find(rest, b"{{") {
            let Some(close) = find(&rest[open..], b"}}") else {
                break;
            };
            let inner = String::from_utf8_lossy(&rest[open + 2..open + close]).into_owned();
            let part = match inner.split_whitespace().collect::<Vec<_>>()[..] {
                ["request_number"] => Part::RequestNumber,
                ["uuid"] => Part::Uuid,
                ["random_string", n] => {
                    Part::RandomString(n.parse().map_err(|_| TemplateError {
                        placeholder: inner.clone(),
                    })?)
                }
                _ => {
                    return Err(TemplateError {
                        placeholder: inner.trim().to_owned(),
                    });
                }
            };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_vec()));
            }
            parts.push(part);
            found = true;
            rest = &rest[open + close + 2..];
        }
        if !found {
            return Ok(None);
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_vec()));
        }
        Ok(Some(Template { parts }))
    }

    /// Request `number`, appended to `out`.
    pub fn render(&self, number: u64, out: &mut Vec<u8>) {
        for part in &self.parts {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::RequestNumber => out.extend_from_slice(number.to_string().as_bytes()),
                Part::Uuid => {
                    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
                    let id = uuid::Uuid::new_v4();
                    out.extend_from_slice(id.hyphenated().encode_lower(&mut text).as_bytes());
                }
                Part::RandomString(n) => {
                    out.extend(rand::rng().sample_iter(Alphanumeric).take(*n));
                }
            }
        }
    }

    /// Request `number` as text (templates are compiled from text, and
    /// every placeholder renders ASCII).
    pub fn render_string(&self, number: u64) -> String {
        let mut out = Vec::new();
        self.render(number, &mut out);
        String::from_utf8(out).expect("compiled from text, placeholders render ASCII")
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_render_and_literals_stay() {
        let t = Template::compile(br#"{"id":"{{request_number}}","tag":"{{ random_string 8 }}"}"#)
            .unwrap()
            .unwrap();
        let first = t.render_string(0);
        assert!(first.starts_with(r#"{"id":"0","tag":""#), "{first}");
        assert_eq!(first.len(), r#"{"id":"0","tag":""}"#.len() + 8);
        assert!(t.render_string(41).starts_with(r#"{"id":"41""#));
        let u = Template::compile(b"/orders/{{uuid}}").unwrap().unwrap();
        let (a, b) = (u.render_string(0), u.render_string(0));
        assert_eq!(a.len(), "/orders/".len() + 36);
        assert_ne!(a, b, "a fresh uuid each time");
        assert_eq!(Template::compile(b"/payload?size_in_kb=1").unwrap(), None);
        assert_eq!(Template::compile(b"{ not a placeholder").unwrap(), None);
    }

    #[test]
    fn an_unknown_placeholder_is_named() {
        let err = Template::compile(b"/x/{{user_id}}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'{{user_id}}'"), "{err}");
        assert!(Template::compile(b"{{random_string many}}").is_err());
    }
}
