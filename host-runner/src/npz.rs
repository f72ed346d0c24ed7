//! `.npz` reading and writing, and atomic file output.
//!
//! Every output file is written to a temporary file in the destination directory and
//! renamed into place, so a reader never sees a partial file and an interrupted run never
//! leaves a corrupt one.

use anyhow::{bail, Context, Result};
use ndarray::{ArrayD, Dimension, IxDyn};
use ndarray_npy::{NpzReader, NpzWriter, WritableElement};
use std::fs::File;
use std::io::{Cursor, Write};
use std::path::Path;

/// Opens an `.npz` file for reading.
pub fn open(path: &Path) -> Result<NpzReader<File>> {
    let name = path.display();
    let f = File::open(path).with_context(|| format!("{name}: cannot open"))?;
    NpzReader::new(f).with_context(|| format!("{name}: not a valid .npz (zip) file"))
}

/// Whether the archive has an array `key`.
pub fn has_key(npz: &mut NpzReader<File>, key: &str) -> Result<bool> {
    Ok(npz.names()?.iter().any(|n| n == key))
}

/// Reads array `key` as f64 (f32 arrays are widened), checking every value is finite.
pub fn read_f64(npz: &mut NpzReader<File>, key: &str, name: &str) -> Result<ArrayD<f64>> {
    if !has_key(npz, key).with_context(|| format!("{name}: unreadable archive"))? {
        bail!("{name}: missing array `{key}`");
    }
    let arr: ArrayD<f64> = match npz.by_name::<ndarray::OwnedRepr<f64>, IxDyn>(key) {
        Ok(a) => a,
        Err(_) => npz
            .by_name::<ndarray::OwnedRepr<f32>, IxDyn>(key)
            .map(|a| a.mapv(f64::from))
            .map_err(|e| anyhow::anyhow!("{name}: array `{key}` is not a float64/float32 array in C or Fortran order ({e})"))?,
    };
    if let Some(v) = arr.iter().find(|v| !v.is_finite()) {
        bail!("{name}: array `{key}` contains a non-finite value ({v})");
    }
    Ok(arr)
}

/// Reads a 2-D f64 array `key`.
pub fn read_f64_2d(
    npz: &mut NpzReader<File>,
    key: &str,
    name: &str,
) -> Result<ndarray::Array2<f64>> {
    let a = read_f64(npz, key, name)?;
    let shape = a.shape().to_vec();
    a.into_dimensionality::<ndarray::Ix2>().map_err(|_| {
        anyhow::anyhow!("{name}: array `{key}` has shape {shape:?}, a 2-D array was expected")
    })
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".ghn-tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
    // tempfile creates files private (0600); outputs are ordinary files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("{}: cannot set permissions", path.display()))?;
    }
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("{}: write failed", path.display()))?;
    tmp.persist(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot move into place: {}", path.display(), e.error))?;
    Ok(())
}

/// An `.npz` archive built in memory, then written atomically.
pub struct NpzOut {
    w: NpzWriter<Cursor<Vec<u8>>>,
}

impl Default for NpzOut {
    fn default() -> Self {
        Self::new()
    }
}

impl NpzOut {
    /// An empty, uncompressed archive (what `numpy.savez` writes).
    pub fn new() -> Self {
        NpzOut {
            w: NpzWriter::new(Cursor::new(Vec::new())),
        }
    }

    /// Adds an array of any dimension.
    pub fn add<T: WritableElement, D: Dimension>(
        &mut self,
        key: &str,
        a: &ndarray::ArrayView<'_, T, D>,
    ) -> Result<()> {
        self.w
            .add_array(key, a)
            .with_context(|| format!("writing array `{key}`"))
    }

    /// Adds a flat slice as an array of the given shape.
    pub fn add_slice<T: WritableElement>(
        &mut self,
        key: &str,
        data: &[T],
        shape: &[usize],
    ) -> Result<()> {
        let view = ndarray::ArrayView::from_shape(IxDyn(shape), data).with_context(|| {
            format!(
                "array `{key}`: {} values do not fit shape {shape:?}",
                data.len()
            )
        })?;
        self.add(key, &view)
    }

    /// Writes the archive to `path` atomically.
    pub fn write(self, path: &Path) -> Result<()> {
        let bytes = self
            .w
            .finish()
            .context("finishing .npz archive")?
            .into_inner();
        write_atomic(path, &bytes)
    }
}
