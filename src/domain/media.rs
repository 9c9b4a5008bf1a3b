//! Product images as pure processing: bytes in, re-encoded renditions out.
//! No I/O, no clock; the service runs it on the blocking pool and stores
//! the results.
//!
//! Policy (why, in `docs/design.md` under "Media"):
//! - The format is decided by the bytes (magic numbers), never by a file
//!   name or a Content-Type; only JPEG, PNG and WebP are accepted.
//! - Size is bounded twice: the upload in bytes, and the picture in pixels
//!   (width, height, and the decoder's allocation) against decompression
//!   bombs, checked from the header before any pixel is decoded.
//! - The picture is decoded, turned upright by its EXIF orientation, and
//!   re-encoded from pixels alone, so EXIF (camera, GPS), XMP, comments and
//!   anything smuggled after the image data are gone. Only the colour
//!   profile is carried over, so phone photos in Display P3 keep their
//!   colours.
//! - Output: PNG when some pixel is transparent, else JPEG. The `image`
//!   crate's WebP encoder is lossless only (large files for photos), so
//!   WebP input becomes JPEG or PNG by the same rule.
//! - Thumbnails at the configured widths keep the aspect ratio and are
//!   never upscaled: widths not smaller than the picture are skipped.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits};

/// What an upload was, by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Jpeg,
    Png,
    WebP,
}

impl SourceFormat {
    /// Recognises the format from the first bytes: JPEG `FF D8 FF`, PNG's
    /// eight-byte signature, WebP `RIFF....WEBP`.
    pub fn sniff(bytes: &[u8]) -> Option<SourceFormat> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(SourceFormat::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(SourceFormat::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(SourceFormat::WebP)
        } else {
            None
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            SourceFormat::Jpeg => ImageFormat::Jpeg,
            SourceFormat::Png => ImageFormat::Png,
            SourceFormat::WebP => ImageFormat::WebP,
        }
    }
}

/// What we store and serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jpeg,
    Png,
}

impl OutputFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
        }
    }
}

/// The limits and sizes processing follows (from configuration).
#[derive(Debug, Clone)]
pub struct Policy {
    pub max_bytes: usize,
    /// Largest width and largest height accepted, each.
    pub max_dimension: u32,
    /// Largest width × height accepted.
    pub max_pixels: u64,
    pub thumbnail_widths: Vec<u32>,
    /// 1 to 100.
    pub jpeg_quality: u8,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_bytes: 10 * 1024 * 1024,
            max_dimension: 8000,
            max_pixels: 40_000_000,
            thumbnail_widths: vec![160, 480, 1024],
            jpeg_quality: 85,
        }
    }
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the upload is empty")]
    Empty,
    #[error("the upload is larger than {limit} bytes")]
    TooManyBytes { limit: usize },
    #[error("not a JPEG, PNG or WebP image")]
    UnsupportedFormat,
    #[error("the image is too large: at most {max_dimension} pixels a side and {max_pixels} in all")]
    TooManyPixels { max_dimension: u32, max_pixels: u64 },
    #[error("the image cannot be decoded: {0}")]
    Corrupt(String),
    #[error("the image could not be encoded: {0}")]
    Encode(String),
}

/// One encoded picture.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// The re-encoded full-size picture and its thumbnails (widest first).
#[derive(Debug, Clone)]
pub struct Processed {
    pub source: SourceFormat,
    pub format: OutputFormat,
    pub full: Rendition,
    pub thumbnails: Vec<Rendition>,
}

/// Checks, decodes, re-encodes and resizes an upload.
pub fn process(bytes: &[u8], policy: &Policy) -> Result<Processed, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > policy.max_bytes {
        return Err(MediaError::TooManyBytes { limit: policy.max_bytes });
    }
    let source = SourceFormat::sniff(bytes).ok_or(MediaError::UnsupportedFormat)?;
    // The JPEG decoder is lenient (a cut-off file decodes with its bottom
    // grey); a product image that lost its end is an upload gone wrong.
    if source == SourceFormat::Jpeg && !jpeg_reaches_its_end(bytes) {
        return Err(MediaError::Corrupt("the JPEG data is incomplete (no end-of-image marker)".into()));
    }
    let (image, icc) = decode(bytes, source, policy)?;
    let format = if is_opaque(&image) { OutputFormat::Jpeg } else { OutputFormat::Png };
    // One conversion to what the encoder takes (no copy when it already is);
    // resizing keeps the pixel type, so thumbnails need none.
    let image = match format {
        OutputFormat::Jpeg => DynamicImage::ImageRgb8(image.into_rgb8()),
        OutputFormat::Png => DynamicImage::ImageRgba8(image.into_rgba8()),
    };
    let icc = icc.filter(|p| p.len() <= MAX_ICC_BYTES);
    let full = encode(&image, format, icc.as_deref(), policy.jpeg_quality)?;

    let mut widths: Vec<u32> =
        policy.thumbnail_widths.iter().copied().filter(|w| *w > 0 && *w < image.width()).collect();
    widths.sort_unstable_by(|a, b| b.cmp(a));
    widths.dedup();
    let mut thumbnails = Vec::with_capacity(widths.len());
    // Each thumbnail is made from the next larger one: cheaper than always
    // starting from the full picture, and every step only shrinks.
    let mut from = image;
    for w in widths {
        let h = scaled_height(from.width(), from.height(), w);
        let thumb = from.resize_exact(w, h, FilterType::CatmullRom);
        thumbnails.push(encode(&thumb, format, icc.as_deref(), policy.jpeg_quality)?);
        from = thumb;
    }
    Ok(Processed { source, format, full, thumbnails })
}

/// Walks a JPEG's segments (skipping each by its length, and each scan's
/// entropy-coded data up to the next marker) and tells whether it reaches
/// the end-of-image marker. Embedded EXIF thumbnails sit inside segments,
/// so their own end markers do not count.
fn jpeg_reaches_its_end(b: &[u8]) -> bool {
    let mut i = 2; // past SOI
    loop {
        if i + 1 >= b.len() || b[i] != 0xFF {
            return false;
        }
        // Any number of 0xFF fill bytes may precede a marker code.
        while b[i + 1] == 0xFF {
            i += 1;
            if i + 1 >= b.len() {
                return false;
            }
        }
        let marker = b[i + 1];
        i += 2;
        match marker {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => continue,
            _ => {
                if i + 1 >= b.len() {
                    return false;
                }
                let len = usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
                if len < 2 {
                    return false;
                }
                i += len;
                if marker == 0xDA {
                    // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed
                    // byte) or a restart marker, until the next real marker.
                    loop {
                        if i + 1 >= b.len() {
                            return false;
                        }
                        if b[i] == 0xFF && b[i + 1] != 0x00 && !(0xD0..=0xD7).contains(&b[i + 1]) {
                            break;
                        }
                        i += 1;
                    }
                }
            }
        }
    }
}

/// Colour profiles above this size are dropped rather than copied into
/// every thumbnail (real display profiles are a few kilobytes).
const MAX_ICC_BYTES: usize = 64 * 1024;

fn decode(bytes: &[u8], source: SourceFormat, policy: &Policy) -> Result<(DynamicImage, Option<Vec<u8>>), MediaError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(policy.max_dimension);
    limits.max_image_height = Some(policy.max_dimension);
    // Enough for the largest accepted picture at 8 bits RGBA, nothing more.
    limits.max_alloc = Some(policy.max_pixels.saturating_mul(4).max(1 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), source.image_format());
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(|e| decode_error(e, policy))?;
    let (width, height) = decoder.dimensions();
    let too_many = || too_many_pixels(policy);
    if u64::from(width) * u64::from(height) > policy.max_pixels {
        return Err(too_many());
    }
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt("the image has no pixels".into()));
    }
    // The decoded buffer counts against the allocation limit too (16-bit
    // channels double it); `into_decoder` alone does not check this.
    limits.reserve(decoder.total_bytes()).map_err(|_| too_many())?;
    // A broken EXIF block only loses the rotation, not the upload.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, policy))?;
    image.apply_orientation(orientation);
    Ok((image, icc))
}

fn decode_error(e: image::ImageError, policy: &Policy) -> MediaError {
    match e {
        image::ImageError::Limits(_) => too_many_pixels(policy),
        other => MediaError::Corrupt(other.to_string()),
    }
}

fn too_many_pixels(policy: &Policy) -> MediaError {
    MediaError::TooManyPixels { max_dimension: policy.max_dimension, max_pixels: policy.max_pixels }
}

fn is_opaque(image: &DynamicImage) -> bool {
    if !image.color().has_alpha() {
        return true;
    }
    match image {
        DynamicImage::ImageLumaA8(i) => i.pixels().all(|p| p.0[1] == u8::MAX),
        DynamicImage::ImageRgba8(i) => i.pixels().all(|p| p.0[3] == u8::MAX),
        DynamicImage::ImageLumaA16(i) => i.pixels().all(|p| p.0[1] == u16::MAX),
        DynamicImage::ImageRgba16(i) => i.pixels().all(|p| p.0[3] == u16::MAX),
        other => other.to_rgba8().pixels().all(|p| p.0[3] == u8::MAX),
    }
}

/// The height that keeps the aspect ratio at `new_width`, at least 1.
pub fn scaled_height(width: u32, height: u32, new_width: u32) -> u32 {
    let h = (u64::from(height) * u64::from(new_width) + u64::from(width) / 2) / u64::from(width.max(1));
    u32::try_from(h).unwrap_or(u32::MAX).max(1)
}

fn encode(
    image: &DynamicImage,
    format: OutputFormat,
    icc: Option<&[u8]>,
    quality: u8,
) -> Result<Rendition, MediaError> {
    let mut out = Vec::new();
    let (w, h, color) = (image.width(), image.height(), image.color().into());
    let written = match format {
        OutputFormat::Jpeg => {
            let mut enc = JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100));
            if let Some(p) = icc {
                // Unsupported only means "not written": the picture stays valid.
                let _ = enc.set_icc_profile(p.to_vec());
            }
            enc.write_image(image.as_bytes(), w, h, color)
        }
        OutputFormat::Png => {
            let mut enc = PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive);
            if let Some(p) = icc {
                let _ = enc.set_icc_profile(p.to_vec());
            }
            enc.write_image(image.as_bytes(), w, h, color)
        }
    };
    written.map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(Rendition { width: image.width(), height: image.height(), bytes: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn photo(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 128]))
    }

    fn encode_as(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        encode_as(&DynamicImage::ImageRgb8(photo(w, h)), ImageFormat::Jpeg)
    }

    /// A JPEG with an EXIF block (orientation 6: turn 90° clockwise, plus a
    /// text tag standing in for camera and GPS data) right after SOI.
    pub(crate) fn with_exif(jpeg: &[u8]) -> Vec<u8> {
        let mut tiff = Vec::new();
        tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, IFD at 8
        tiff.extend_from_slice(&2u16.to_be_bytes()); // two entries
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation = 6
        let secret = b"SECRET-CAMERA-SERIAL\0";
        tiff.extend_from_slice(&[0x01, 0x0f, 0, 2]); // Make, ASCII
        tiff.extend_from_slice(&(secret.len() as u32).to_be_bytes());
        tiff.extend_from_slice(&(8u32 + 2 + 24 + 4).to_be_bytes()); // value after the IFD
        tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
        tiff.extend_from_slice(secret);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn formats_are_recognised_by_content_only() {
        assert_eq!(SourceFormat::sniff(&jpeg(4, 4)), Some(SourceFormat::Jpeg));
        let png = encode_as(&DynamicImage::ImageRgb8(photo(4, 4)), ImageFormat::Png);
        assert_eq!(SourceFormat::sniff(&png), Some(SourceFormat::Png));
        let webp = encode_as(&DynamicImage::ImageRgb8(photo(4, 4)), ImageFormat::WebP);
        assert_eq!(SourceFormat::sniff(&webp), Some(SourceFormat::WebP));
        assert_eq!(SourceFormat::sniff(b"GIF89a......"), None);
        assert_eq!(SourceFormat::sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(SourceFormat::sniff(b"RIFF\0\0\0\0WAVE"), None);
    }

    #[test]
    fn a_photo_is_re_encoded_with_thumbnails_never_upscaled() {
        let out = process(&jpeg(1200, 600), &Policy::default()).unwrap();
        assert_eq!(out.format, OutputFormat::Jpeg);
        assert_eq!((out.full.width, out.full.height), (1200, 600));
        let sizes: Vec<(u32, u32)> = out.thumbnails.iter().map(|t| (t.width, t.height)).collect();
        assert_eq!(sizes, vec![(1024, 512), (480, 240), (160, 80)]);
        for t in &out.thumbnails {
            let decoded = image::load_from_memory_with_format(&t.bytes, ImageFormat::Jpeg).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (t.width, t.height));
        }
        let small = process(&jpeg(300, 200), &Policy::default()).unwrap();
        assert_eq!(small.thumbnails.iter().map(|t| t.width).collect::<Vec<_>>(), vec![160], "no upscaling");
        assert_eq!(small.thumbnails[0].height, 107, "aspect ratio kept, rounded");
    }

    #[test]
    fn transparency_keeps_png_and_opaque_pictures_become_jpeg() {
        let clear = RgbaImage::from_fn(20, 10, |x, _| Rgba([10, 20, 30, if x < 5 { 0 } else { 255 }]));
        let png = encode_as(&DynamicImage::ImageRgba8(clear.clone()), ImageFormat::Png);
        let out = process(&png, &Policy::default()).unwrap();
        assert_eq!(out.format, OutputFormat::Png);
        let back = image::load_from_memory_with_format(&out.full.bytes, ImageFormat::Png).unwrap().to_rgba8();
        assert_eq!(back, clear, "PNG stays lossless");

        let opaque = RgbaImage::from_fn(20, 10, |_, _| Rgba([10, 20, 30, 255]));
        let png = encode_as(&DynamicImage::ImageRgba8(opaque), ImageFormat::Png);
        assert_eq!(process(&png, &Policy::default()).unwrap().format, OutputFormat::Jpeg);

        let webp = encode_as(&DynamicImage::ImageRgba8(clear), ImageFormat::WebP);
        let out = process(&webp, &Policy::default()).unwrap();
        assert_eq!((out.source, out.format), (SourceFormat::WebP, OutputFormat::Png));
    }

    #[test]
    fn exif_is_stripped_and_its_orientation_applied() {
        let input = with_exif(&jpeg(40, 20));
        assert!(contains(&input, b"Exif\0\0") && contains(&input, b"SECRET-CAMERA-SERIAL"));
        assert_eq!(image::load_from_memory(&input).unwrap().width(), 40, "the fixture still decodes");
        let out = process(&input, &Policy::default()).unwrap();
        for r in std::iter::once(&out.full).chain(&out.thumbnails) {
            assert!(!contains(&r.bytes, b"Exif\0\0"));
            assert!(!contains(&r.bytes, b"SECRET-CAMERA-SERIAL"));
        }
        assert_eq!((out.full.width, out.full.height), (20, 40), "turned upright");
    }

    #[test]
    fn data_after_the_image_is_not_carried_over() {
        let mut input = jpeg(16, 16);
        input.extend_from_slice(b"<script>alert(1)</script>");
        let out = process(&input, &Policy::default()).unwrap();
        assert!(!contains(&out.full.bytes, b"<script>"));
    }

    #[test]
    fn what_is_not_an_acceptable_image_is_refused() {
        let p = Policy::default();
        assert_eq!(process(b"", &p).unwrap_err(), MediaError::Empty);
        assert_eq!(process(b"just some text, named photo.jpg", &p).unwrap_err(), MediaError::UnsupportedFormat);
        let gif =
            b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
        assert_eq!(process(gif, &p).unwrap_err(), MediaError::UnsupportedFormat);
        let whole = jpeg(64, 64);
        for cut in [whole.len() / 3, whole.len() / 2, whole.len() - 2] {
            assert!(matches!(process(&whole[..cut], &p), Err(MediaError::Corrupt(_))), "truncated at {cut}");
        }
        let exif = with_exif(&whole);
        assert!(matches!(process(&exif[..exif.len() - 2], &p), Err(MediaError::Corrupt(_))));
        let mut garbage = b"\x89PNG\r\n\x1a\n".to_vec();
        garbage.extend_from_slice(&[0x5a; 200]);
        assert!(matches!(process(&garbage, &p), Err(MediaError::Corrupt(_))));
        let small = Policy { max_bytes: 100, ..Policy::default() };
        assert_eq!(process(&whole, &small).unwrap_err(), MediaError::TooManyBytes { limit: 100 });
    }

    /// A valid PNG header declaring a huge picture over a few bytes of data:
    /// refused from the header, before any pixel memory is allocated.
    #[test]
    fn decompression_bombs_are_refused_from_their_header() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut body = kind.to_vec();
            body.extend_from_slice(data);
            let mut out = (data.len() as u32).to_be_bytes().to_vec();
            out.extend_from_slice(&body);
            out.extend_from_slice(&crc32(&body).to_be_bytes());
            out
        };
        let png = |w: u32, h: u32| {
            let mut ihdr = w.to_be_bytes().to_vec();
            ihdr.extend_from_slice(&h.to_be_bytes());
            ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
            let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
            out.extend(chunk(b"IHDR", &ihdr));
            // The start of a zlib stream: a few bytes claiming gigabytes.
            out.extend(chunk(b"IDAT", &[0x78, 0x9c, 0xed, 0xc1, 0x01, 0x0d]));
            out.extend(chunk(b"IEND", &[]));
            out
        };
        let p = Policy::default();
        assert!(matches!(process(&png(100_000, 100_000), &p), Err(MediaError::TooManyPixels { .. })));
        assert!(matches!(process(&png(8000, 8000), &p), Err(MediaError::TooManyPixels { .. })), "pixel total");
        assert!(matches!(process(&png(9000, 10), &p), Err(MediaError::TooManyPixels { .. })), "one side");
        let tight = Policy { max_dimension: 32, max_pixels: 1024, ..Policy::default() };
        assert!(matches!(process(&jpeg(33, 10), &tight), Err(MediaError::TooManyPixels { .. })));
        assert!(process(&jpeg(32, 32), &tight).is_ok());
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn scaled_heights_round_and_never_vanish() {
        assert_eq!(scaled_height(1200, 600, 480), 240);
        assert_eq!(scaled_height(300, 200, 160), 107);
        assert_eq!(scaled_height(10_000, 1, 160), 1);
    }
}
