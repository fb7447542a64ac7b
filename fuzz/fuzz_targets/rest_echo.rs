#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirebench_server::fuzz_entry::rest_echo(data));
