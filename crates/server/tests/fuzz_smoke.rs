//! The fuzz targets' entry points (see fuzz/) on 20,000 pseudo-random and
//! mutated inputs each, on the stable toolchain: a short smoke run on every
//! test run. The coverage-guided runs are `cargo fuzz run <target>` (README).

use wirebench_server::fuzz_entry;

/// Inputs: random bytes, and mutations of well-formed requests.
fn inputs() -> Vec<Vec<u8>> {
    let seeds: [&[u8]; 6] = [
        b"\x00{\"data\":\"xxxx\"}",
        b"\x01\x0a\x04xxxx",
        b"512",
        b"{\"size_in_kb\":512}",
        &[0x08, 0x80, 0x04],
        &[0, 2, 0, 0, 0, 0, 0, 0],
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..20_000)
        .map(|i| {
            if i % 2 == 0 {
                let len = (next() % 64) as usize;
                (0..len).map(|_| next() as u8).collect()
            } else {
                let mut input = seeds[i % seeds.len()].to_vec();
                for _ in 0..1 + next() % 3 {
                    if input.is_empty() {
                        break;
                    }
                    let at = (next() as usize) % input.len();
                    input[at] = next() as u8;
                }
                if next() % 4 == 0 {
                    input.truncate((next() as usize) % (input.len() + 1));
                }
                input
            }
        })
        .collect()
}

#[test]
fn decoding_paths_survive_arbitrary_input() {
    for input in inputs() {
        fuzz_entry::rest_echo(&input);
        fuzz_entry::rest_size(&input);
        fuzz_entry::protobuf(&input);
        fuzz_entry::grpc_json(&input);
        fuzz_entry::tcp_request(&input);
    }
}
