//! A built schema library, loaded once per process, and the messages it
//! serves: the host side of the ABI in `template/abi.rs`.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::CodegenError;
use crate::json;
use crate::message::Encoding;
use crate::message::service::Ack;

#[repr(C)]
struct Slice {
    ptr: *const u8,
    len: usize,
}

impl Slice {
    fn of(bytes: &[u8]) -> Slice {
        Slice {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

#[repr(C)]
struct Owned {
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

const ABI: u32 = 1;

type AbiFn = unsafe extern "C" fn() -> u32;
type OpenFn = unsafe extern "C" fn(Slice, *const Slice, usize, *mut Owned) -> *mut c_void;
type CloseFn = unsafe extern "C" fn(*mut c_void);
type CallFn =
    unsafe extern "C" fn(*const c_void, u32, u64, Slice, u32, u32, *mut Owned, *mut u64) -> u32;
type FreeFn = unsafe extern "C" fn(Owned);

/// A loaded library and its functions (valid while `_library` lives).
struct Library {
    _library: libloading::Library,
    open: OpenFn,
    close: CloseFn,
    call: CallFn,
    free: FreeFn,
}

/// Libraries loaded by this process, by path: `--sizes` opens one schema
/// many times.
static LOADED: Mutex<Vec<(PathBuf, Arc<Library>)>> = Mutex::new(Vec::new());

fn load(path: &Path) -> Result<Arc<Library>, CodegenError> {
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, library)) = loaded.iter().find(|(p, _)| p == path) {
        return Ok(library.clone());
    }
    let error = |why: String| CodegenError::Load {
        path: path.display().to_string(),
        why,
    };
    // SAFETY: the library is one wirebench wrote and built (its cache
    // entry appears whole, by a rename); its initialisers are Rust's.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| error(e.to_string()))?;
    // SAFETY: the symbols have the types `template/abi.rs` gives them, at
    // the ABI version checked first.
    let library = unsafe {
        let abi = *library
            .get::<AbiFn>(b"wirebench_schema_abi\0")
            .map_err(|e| error(e.to_string()))?;
        if abi() != ABI {
            return Err(error(format!("ABI {} where {ABI} was expected", abi())));
        }
        let open = *library
            .get::<OpenFn>(b"wirebench_schema_open\0")
            .map_err(|e| error(e.to_string()))?;
        let close = *library
            .get::<CloseFn>(b"wirebench_schema_close\0")
            .map_err(|e| error(e.to_string()))?;
        let call = *library
            .get::<CallFn>(b"wirebench_schema_call\0")
            .map_err(|e| error(e.to_string()))?;
        let free = *library
            .get::<FreeFn>(b"wirebench_schema_free\0")
            .map_err(|e| error(e.to_string()))?;
        Library {
            _library: library,
            open,
            close,
            call,
            free,
        }
    };
    let library = Arc::new(library);
    loaded.push((path.to_owned(), library.clone()));
    Ok(library)
}

impl Library {
    /// The library's bytes, copied into ours and handed back.
    fn take(&self, owned: Owned) -> Vec<u8> {
        // SAFETY: `owned` is a buffer the library wrote, freed once here.
        unsafe {
            let bytes = if owned.len == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(owned.ptr, owned.len).to_vec()
            };
            (self.free)(owned);
            bytes
        }
    }
}

/// Messages of one type of a compiled schema, as its generated types, in
/// the library that serves them. Shared by every request.
pub struct CompiledMessages {
    library: Arc<Library>,
    handle: *mut c_void,
    count: usize,
    type_name: String,
}

// SAFETY: the handle is the library's `Box<dyn Serve>`, `Send + Sync`;
// it is only read after it is opened, and closed once, on drop.
unsafe impl Send for CompiledMessages {}
unsafe impl Sync for CompiledMessages {}

impl std::fmt::Debug for CompiledMessages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CompiledMessages({} x{})", self.type_name, self.count)
    }
}

impl Drop for CompiledMessages {
    fn drop(&mut self) {
        // SAFETY: opened by this library, closed once.
        unsafe { (self.library.close)(self.handle) }
    }
}

impl CompiledMessages {
    /// The library at `path`'s `type_name`, holding `messages` (protobuf).
    pub fn open(
        path: &Path,
        type_name: &str,
        messages: &[Vec<u8>],
    ) -> Result<CompiledMessages, CodegenError> {
        let library = load(path)?;
        let slices: Vec<Slice> = messages.iter().map(|m| Slice::of(m)).collect();
        let mut error = Owned {
            ptr: std::ptr::null_mut(),
            len: 0,
            cap: 0,
        };
        // SAFETY: every slice borrows a live buffer; `error` is writable.
        let handle = unsafe {
            (library.open)(
                Slice::of(type_name.as_bytes()),
                slices.as_ptr(),
                slices.len(),
                &mut error,
            )
        };
        if handle.is_null() {
            let why = String::from_utf8_lossy(&library.take(error)).into_owned();
            return Err(CodegenError::Load {
                path: path.display().to_string(),
                why,
            });
        }
        Ok(CompiledMessages {
            library,
            handle,
            count: messages.len(),
            type_name: type_name.to_owned(),
        })
    }

    /// The full name of their type.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// How many messages it holds.
    pub fn count(&self) -> usize {
        self.count
    }

    fn call(
        &self,
        op: u32,
        index: u64,
        body: &[u8],
        encoding: Encoding,
    ) -> (Result<Vec<u8>, String>, [u64; 2]) {
        let mut out = Owned {
            ptr: std::ptr::null_mut(),
            len: 0,
            cap: 0,
        };
        let mut ack = [0u64; 2];
        let encoding_code = match encoding {
            Encoding::Protobuf => 0,
            Encoding::Json => 1,
        };
        let codec = match json::selected() {
            json::Codec::SerdeJson => 0,
            json::Codec::SonicRs => 1,
        };
        // SAFETY: the handle is open; `body`, `out` and `ack` are live.
        let status = unsafe {
            (self.library.call)(
                self.handle,
                op,
                index,
                Slice::of(body),
                encoding_code,
                codec,
                &mut out,
                ack.as_mut_ptr(),
            )
        };
        let bytes = self.library.take(out);
        match status {
            0 => (Ok(bytes), ack),
            _ => (Err(String::from_utf8_lossy(&bytes).into_owned()), ack),
        }
    }

    /// Message `index` (modulo the count) in `encoding`.
    pub fn down(&self, index: u64, encoding: Encoding) -> Vec<u8> {
        self.call(0, index, &[], encoding)
            .0
            .expect("a held message encodes")
    }

    /// The [`Ack`] of the message `body` holds.
    pub fn up(&self, body: &[u8], encoding: Encoding) -> Result<Ack, String> {
        let (result, [digest, message_bytes]) = self.call(1, 0, body, encoding);
        result.map(|_| Ack {
            digest,
            message_bytes,
        })
    }

    /// The message `body` holds, decoded and encoded again.
    pub fn echo(&self, body: &[u8], encoding: Encoding) -> Result<Vec<u8>, String> {
        self.call(2, 0, body, encoding).0
    }
}
