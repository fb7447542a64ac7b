//! The cache of built schemas: `<cache>/schemas/<key>/libschema.so`, keyed
//! by everything the library is built from. One process builds a key at a
//! time (a lock file beside it; the others wait, then load what it
//! built); the entry appears by a rename, whole or not at all. All
//! schemas share one cargo target folder, so only the first build
//! compiles prost, pbjson and the codecs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::CodegenError;
use super::generate::{LOCK, TEMPLATE, write_crate};

/// The file a cache entry holds.
const LIBRARY: &str = "libschema.so";

/// `<cache>/schemas`: `$WIREBENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/wirebench`,
/// else `~/.cache/wirebench`.
pub fn schemas_dir() -> PathBuf {
    let cache = std::env::var_os("WIREBENCH_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("wirebench")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/wirebench")))
        .unwrap_or_else(|| std::env::temp_dir().join("wirebench-cache"));
    cache.join("schemas")
}

/// The cache key of a schema: its descriptors, the ABI's and the crate's
/// sources, the lock file and wirebench's version, hashed (FNV-1a 64).
pub fn key(files: &[u8]) -> String {
    let mut hash = super::super::digest::Fnv::new();
    let mut part = |bytes: &[u8]| {
        hash.write(&(bytes.len() as u64).to_le_bytes());
        hash.write(bytes);
    };
    part(env!("CARGO_PKG_VERSION").as_bytes());
    for (path, text) in TEMPLATE {
        part(path.as_bytes());
        part(text.as_bytes());
    }
    part(LOCK.as_bytes());
    part(files);
    format!("{:016x}", hash.finish())
}

/// The library of schema `files`: from the cache, or built into it now
/// (printing progress to stderr, and how long the build took).
pub fn library_path(files: &[u8], schema: &str) -> Result<PathBuf, CodegenError> {
    let dir = schemas_dir();
    let key = key(files);
    let entry = dir.join(&key);
    let cached = entry.join(LIBRARY);
    if cached.exists() {
        return Ok(cached);
    }
    let cache_error = |why: std::io::Error| CodegenError::Cache {
        path: dir.display().to_string(),
        why: why.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(cache_error)?;
    let cargo = cargo()?;
    let lock = std::fs::File::create(dir.join(format!("{key}.lock"))).map_err(cache_error)?;
    if lock.try_lock().is_err() {
        eprintln!("waiting for another wirebench building {schema} ...");
        lock.lock().map_err(cache_error)?;
    }
    if cached.exists() {
        return Ok(cached);
    }
    let started = Instant::now();
    eprintln!(
        "compiling {schema} to Rust (prost + pbjson) with {}, once: cached in {}",
        cargo.display(),
        entry.display()
    );
    let name = format!("wirebench-schema-{key}");
    let source = dir.join(format!("build-{key}"));
    let _ = std::fs::remove_dir_all(&source);
    let target = dir.join("target");
    let made = write_crate(files, &name, &source).and_then(|()| build(&cargo, &source, &target));
    if let Err(err) = made {
        let _ = std::fs::remove_dir_all(&source);
        return Err(err);
    }
    let built = target
        .join("release")
        .join(format!("lib{}.so", name.replace('-', "_")));
    // Whole or not at all: copied beside the entry, then renamed into it.
    let staging = dir.join(format!("{key}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(cache_error)?;
    std::fs::copy(&built, staging.join(LIBRARY)).map_err(cache_error)?;
    std::fs::rename(&staging, &entry).map_err(cache_error)?;
    let _ = std::fs::remove_dir_all(&source);
    eprintln!(
        "compiled {schema} in {:.1} s; later runs load it from the cache",
        started.elapsed().as_secs_f64()
    );
    Ok(cached)
}

/// cargo: `$CARGO` (set when wirebench itself runs under cargo), else the
/// one on `PATH`; an error when there is none.
fn cargo() -> Result<PathBuf, CodegenError> {
    let cargo = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cargo"));
    match Command::new(&cargo)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => Ok(cargo),
        Ok(status) => Err(CodegenError::NoCargo {
            why: format!("`{} --version` exited with {status}", cargo.display()),
        }),
        Err(err) => Err(CodegenError::NoCargo {
            why: format!("{}: {err}", cargo.display()),
        }),
    }
}

/// `cargo build --release --offline` of the crate in `source`; cargo's
/// "Compiling" lines are shown as progress, its first error returned.
fn build(cargo: &Path, source: &Path, target: &Path) -> Result<(), CodegenError> {
    let mut child = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--offline",
            "--lib",
            "--color",
            "never",
        ])
        .arg("--manifest-path")
        .arg(source.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| CodegenError::NoCargo {
            why: format!("{}: {err}", cargo.display()),
        })?;
    let mut log = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(what) = line.trim_start().strip_prefix("Compiling ") {
                eprintln!("  compiling {what}");
            }
            log.push(line);
        }
    }
    let status = child.wait().map_err(|err| CodegenError::Build {
        first_error: err.to_string(),
    })?;
    if status.success() {
        return Ok(());
    }
    // The first error, to its blank line.
    let first_error: Vec<&str> = log
        .iter()
        .skip_while(|line| !line.starts_with("error"))
        .take_while(|line| !line.trim().is_empty())
        .take(30)
        .map(String::as_str)
        .collect();
    Err(CodegenError::Build {
        first_error: if first_error.is_empty() {
            format!("{status}: {}", log.join("\n"))
        } else {
            first_error.join("\n")
        },
    })
}
