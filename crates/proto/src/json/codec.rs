//! The two JSON libraries behind one `Codec`: what each encodes and
//! decodes with. This file is also the `json` module of a user's compiled
//! schema (`message::compiled` copies it), so it stands alone.

use serde::{Deserialize, Serialize};

/// Which library encodes and decodes JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Codec {
    #[default]
    #[serde(rename = "serde_json")]
    SerdeJson,
    #[serde(rename = "sonic-rs")]
    SonicRs,
}

impl Codec {
    pub const ALL: [Codec; 2] = [Codec::SerdeJson, Codec::SonicRs];

    pub fn name(self) -> &'static str {
        match self {
            Codec::SerdeJson => "serde_json",
            Codec::SonicRs => "sonic-rs",
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Codec {
    type Err = String;
    fn from_str(text: &str) -> Result<Codec, String> {
        Codec::ALL
            .into_iter()
            .find(|c| c.name() == text || (text == "sonic_rs" && *c == Codec::SonicRs))
            .ok_or_else(|| format!("'{text}' is not a JSON codec (serde_json or sonic-rs)"))
    }
}

impl Codec {
    /// Appends `value` as JSON to `out`.
    pub fn to_writer<T: Serialize + ?Sized>(
        self,
        out: &mut Vec<u8>,
        value: &T,
    ) -> Result<(), String> {
        match self {
            Codec::SerdeJson => serde_json::to_writer(out, value).map_err(|e| e.to_string()),
            Codec::SonicRs => sonic_rs::to_writer(out, value).map_err(|e| e.to_string()),
        }
    }

    pub fn from_slice<'a, T: Deserialize<'a>>(self, bytes: &'a [u8]) -> Result<T, String> {
        match self {
            Codec::SerdeJson => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
            Codec::SonicRs => sonic_rs::from_slice(bytes).map_err(|e| e.to_string()),
        }
    }

    /// Decodes through a seed (prost-reflect's dynamic messages
    /// deserialize with their descriptor); trailing text is an error.
    pub fn from_slice_seed<'a, S: serde::de::DeserializeSeed<'a>>(
        self,
        bytes: &'a [u8],
        seed: S,
    ) -> Result<S::Value, String> {
        match self {
            Codec::SerdeJson => {
                let mut de = serde_json::Deserializer::from_slice(bytes);
                let value = seed.deserialize(&mut de).map_err(|e| e.to_string())?;
                de.end().map_err(|e| e.to_string())?;
                Ok(value)
            }
            Codec::SonicRs => {
                let mut de = sonic_rs::Deserializer::from_slice(bytes);
                let value = seed.deserialize(&mut de).map_err(|e| e.to_string())?;
                de.end().map_err(|e| e.to_string())?;
                Ok(value)
            }
        }
    }
}
