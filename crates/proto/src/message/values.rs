//! The values the built-in shapes are filled with: drawn from a seeded
//! ChaCha generator, so the server and the load generator build the same
//! message; words of several scripts and characters JSON must escape, ids
//! over 2^53 (a JSON number would lose them), no two values of a field
//! meant to be equal.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Timestamp;
use super::fnv1a64;
use super::shapes::{
    Address, Binary, Blob, Customer, Document, LineItem, Money, Order, Point, Series, Telemetry,
    Text, Tiny,
};

/// Words of several scripts, and text JSON must escape.
const WORDS: [&str; 24] = [
    "order",
    "payload",
    "Straße",
    "Größe",
    "naïve",
    "café",
    "東京",
    "データ",
    "こんにちは",
    "Привет",
    "мир",
    "مرحبا",
    "שלום",
    "🚀",
    "✓",
    "€",
    "\"quoted\"",
    "back\\slash",
    "tab\there",
    "line\nbreak",
    "<tag>",
    "a&b",
    "control\u{1}char",
    "latency",
];
const CITIES: [&str; 6] = [
    "Berlin",
    "Zürich",
    "São Paulo",
    "Kraków",
    "Montréal",
    "Osaka",
];
const CURRENCIES: [&str; 4] = ["EUR", "USD", "JPY", "CHF"];
const METRICS: [&str; 4] = [
    "http_requests_total",
    "process_cpu_seconds_total",
    "queue_depth",
    "latency_seconds",
];

/// About `bytes` bytes of words from [`WORDS`].
pub(super) fn words(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 16);
    while text.len() < bytes {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(WORDS[rng.random_range(0..WORDS.len())]);
    }
    text
}

/// Seeded values: every call draws new ones.
pub(super) struct Values(pub(super) ChaCha8Rng);

impl Values {
    fn id(&mut self) -> i64 {
        self.0
            .random_range(1_000_000_000_000..9_000_000_000_000_000_000)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.0.random_range(0..from.len())]
    }

    fn words(&mut self, bytes: usize) -> String {
        words(&mut self.0, bytes)
    }

    fn money(&mut self) -> Money {
        Money {
            currency_code: self.pick(&CURRENCIES).to_owned(),
            units: self.0.random_range(0..100_000),
            nanos: self.0.random_range(0..1_000_000_000),
        }
    }

    fn timestamp(&mut self) -> Timestamp {
        Timestamp {
            // 2020 .. 2030.
            seconds: self.0.random_range(1_577_836_800..1_893_456_000),
            nanos: self.0.random_range(0..1_000_000_000),
        }
    }

    pub(super) fn tiny(&mut self) -> Tiny {
        Tiny {
            id: self.id(),
            count: self.0.random_range(-1_000_000..1_000_000),
            ratio: self.0.random(),
            active: self.0.random(),
            name: self.words(12),
            version: self.0.random(),
            score: self.0.random::<f32>() * 100.0,
            region: self.pick(&CITIES).to_owned(),
        }
    }

    pub(super) fn order(&mut self, items: usize) -> Order {
        let line_items = (0..items)
            .map(|i| LineItem {
                product_id: self.id(),
                sku: format!("SKU-{:08X}-{i}", self.0.random::<u32>()),
                title: self.words(24),
                quantity: self.0.random_range(1..20),
                unit_price: Some(self.money()),
            })
            .collect();
        Order {
            order_id: self.id(),
            customer: Some(Customer {
                id: self.id(),
                name: self.words(16),
                email: format!("customer{}@example.com", self.0.random::<u32>()),
                shipping_address: Some(Address {
                    street: format!("{} {}", self.0.random_range(1..999), self.words(12)),
                    city: self.pick(&CITIES).to_owned(),
                    postal_code: format!("{:05}", self.0.random_range(1000..99_999)),
                    country_code: self.pick(&["DE", "CH", "BR", "PL", "CA", "JP"]).to_owned(),
                }),
            }),
            line_items,
            total: Some(self.money()),
            status: self.0.random_range(1..=5),
            created_at: Some(self.timestamp()),
            note: self.words(32),
        }
    }

    pub(super) fn telemetry(&mut self, points: usize) -> Telemetry {
        let series = METRICS
            .iter()
            .map(|metric| Series {
                metric: (*metric).to_owned(),
                labels: (0..5)
                    .map(|i| (format!("label_{i}"), self.words(8)))
                    .collect(),
                points: (0..points)
                    .map(|i| Point {
                        timestamp_ms: 1_704_067_200_000
                            + i as i64 * 1000
                            + self.0.random_range(0..1000),
                        value: self.0.random::<f64>() * 1e6,
                    })
                    .collect(),
            })
            .collect();
        Telemetry {
            source: format!("host-{:04x}", self.0.random::<u16>()),
            collected_at: Some(self.timestamp()),
            series,
        }
    }

    pub(super) fn text(&mut self, documents: usize) -> Text {
        Text {
            documents: (0..documents)
                .map(|i| Document {
                    id: format!("doc-{i}-{:x}", self.0.random::<u64>()),
                    title: self.words(40),
                    body: self.words(2000),
                    tags: (0..4).map(|_| self.pick(&WORDS).to_owned()).collect(),
                    language: self.pick(&["de", "ja", "ru", "ar", "he", "en"]).to_owned(),
                })
                .collect(),
        }
    }

    pub(super) fn binary(&mut self, blobs: usize) -> Binary {
        Binary {
            blobs: (0..blobs)
                .map(|i| {
                    let mut data = vec![0u8; 4096];
                    self.0.fill(&mut data[..]);
                    Blob {
                        name: format!("blob-{i}.bin"),
                        content_type: "application/octet-stream".to_owned(),
                        digest: fnv1a64(&data).to_be_bytes().to_vec(),
                        data,
                    }
                })
                .collect(),
        }
    }
}
