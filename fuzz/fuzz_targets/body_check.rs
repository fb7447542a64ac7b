#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirebench_load::verify::fuzz_entry(data));
