//! Requests that differ every time, as k6 and ghz users write them:
//! `{{request_number}}` (0, 1, 2, ... over the run), `{{uuid}}` (a random
//! v4 UUID) and `{{random_string N}}` (N random letters and digits), or
//! ghz's spelling of them (`{{.RequestNumber}}`, `{{.UUID}}`,
//! `{{newUUID}}`, `{{randomString N}}`), in a
//! URL's path and query, an HTTP body, or a gRPC request's JSON (`-d`).
//! A template is compiled once, into literal runs and placeholders;
//! rendering one request appends them to a buffer. A request without a
//! placeholder is not a template at all: it is prepared once, as before,
//! and costs nothing per request.
//!
//! What a template may expand to is bounded when it is compiled: a
//! `{{random_string N}}` of [`MAX_RANDOM_STRING_BYTES`] at most, and all
//! of a template's random strings together [`MAX_EXPANSION_BYTES`], so a
//! typo ("99999999999") is an error before the first request, not a
//! process that grows until the machine runs out of memory. An unclosed
//! `{{` is an error too: sent as it is, it would be a request nobody meant.

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

/// The longest `{{random_string N}}`: 1 MiB.
pub const MAX_RANDOM_STRING_BYTES: usize = 1 << 20;
/// The most all of a template's random strings may add to one request:
/// 16 MiB.
pub const MAX_EXPANSION_BYTES: usize = 16 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "'{{{{{placeholder}}}}}' is not a template placeholder: use {{{{request_number}}}}, {{{{uuid}}}} or {{{{random_string N}}}} (or ghz's {{{{.RequestNumber}}}}, {{{{.UUID}}}}, {{{{newUUID}}}}, {{{{randomString N}}}})"
    )]
    Unknown { placeholder: String },
    #[error(
        "'{{{{{placeholder}}}}}' asks for {bytes} bytes; a random string is at most {MAX_RANDOM_STRING_BYTES} bytes (1 MiB)"
    )]
    TooLong { placeholder: String, bytes: usize },
    #[error(
        "the template's random strings add {bytes} bytes to each request; at most {MAX_EXPANSION_BYTES} (16 MiB)"
    )]
    TooMuch { bytes: usize },
    #[error("'{text}' opens a placeholder with {{{{ and never closes it with }}}}")]
    Unclosed { text: String },
}

impl Template {
    /// `text` compiled, or None when it has no placeholder (`{{`).
    pub fn compile(text: &[u8]) -> Result<Option<Template>, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut found = false;
        let mut expansion = 0usize;
        while let Some(open) = find(rest, b"{{") {
            let Some(close) = find(&rest[open..], b"}}") else {
                let text = String::from_utf8_lossy(&rest[open..]);
                return Err(TemplateError::Unclosed {
                    text: text.chars().take(40).collect(),
                });
            };
            let inner = String::from_utf8_lossy(&rest[open + 2..open + close]).into_owned();
            let part = match inner.split_whitespace().collect::<Vec<_>>()[..] {
                // ghz's names beside ours.
                ["request_number"] | [".RequestNumber"] => Part::RequestNumber,
                ["uuid"] | [".UUID"] | ["newUUID"] => Part::Uuid,
                ["random_string", n] | ["randomString", n] => {
                    let placeholder = || inner.trim().to_owned();
                    let bytes: usize = n.parse().map_err(|_| match n.parse::<u128>() {
                        // A number, just too large for this machine.
                        Ok(bytes) => TemplateError::TooLong {
                            placeholder: placeholder(),
                            bytes: usize::try_from(bytes).unwrap_or(usize::MAX),
                        },
                        Err(_) => TemplateError::Unknown {
                            placeholder: placeholder(),
                        },
                    })?;
                    if bytes > MAX_RANDOM_STRING_BYTES {
                        return Err(TemplateError::TooLong {
                            placeholder: placeholder(),
                            bytes,
                        });
                    }
                    expansion += bytes;
                    if expansion > MAX_EXPANSION_BYTES {
                        return Err(TemplateError::TooMuch { bytes: expansion });
                    }
                    Part::RandomString(bytes)
                }
                _ => {
                    return Err(TemplateError::Unknown {
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
    fn ghz_spellings_are_the_same_placeholders() {
        let ghz = Template::compile(b"{{.RequestNumber}}-{{.UUID}}-{{newUUID}}-{{randomString 8}}")
            .unwrap()
            .unwrap();
        let ours = Template::compile(b"{{request_number}}-{{uuid}}-{{uuid}}-{{random_string 8}}")
            .unwrap()
            .unwrap();
        assert_eq!(ghz, ours);
        assert!(ghz.render_string(7).starts_with("7-"));
    }

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
        assert_eq!(Template::compile(b"{ not a placeholder }").unwrap(), None);
    }

    #[test]
    fn an_unknown_placeholder_is_named() {
        let err = Template::compile(b"/x/{{user_id}}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'{{user_id}}'"), "{err}");
        assert!(Template::compile(b"{{random_string many}}").is_err());
    }

    #[test]
    fn expansion_is_bounded_and_an_unclosed_placeholder_refused() {
        let err = Template::compile(b"/x/{{random_string 99999999999}}").unwrap_err();
        assert!(
            matches!(
                err,
                TemplateError::TooLong {
                    bytes: 99_999_999_999,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("at most 1048576 bytes"), "{err}");
        let huge = b"{{random_string 999999999999999999999999}}";
        assert!(matches!(
            Template::compile(huge),
            Err(TemplateError::TooLong { .. })
        ));
        let at_limit = format!("{{{{random_string {MAX_RANDOM_STRING_BYTES}}}}}");
        assert!(Template::compile(at_limit.as_bytes()).unwrap().is_some());
        let seventeen = at_limit.repeat(17);
        assert_eq!(
            Template::compile(seventeen.as_bytes()),
            Err(TemplateError::TooMuch {
                bytes: 17 * MAX_RANDOM_STRING_BYTES
            })
        );
        let err = Template::compile(b"/orders/{{uuid}").unwrap_err();
        assert_eq!(
            err,
            TemplateError::Unclosed {
                text: "{{uuid}".to_owned()
            }
        );
        assert!(err.to_string().contains("never closes it"), "{err}");
    }
}
