//! `figures_non_trivial`: a PNG, JPEG or SVG output must decode, have sane
//! dimensions, and not be a single flat colour (or an SVG with nothing drawn).
//!
//! A figure's header says how large it decodes (width × height × channels): one that
//! would exceed `max_decoded_figure_size` fails the check from its header alone, and
//! a JPEG or SVG file (read whole) larger than that bound is refused from its size,
//! so a crafted 2.6 MB PNG claiming 29,999² pixels costs nothing to review.

use crate::model::config::format_size;
use std::path::Path;

const MIN_SIDE: u32 = 8;
const MAX_SIDE: u32 = 30_000;

fn sane(w: u32, h: u32) -> Result<(), String> {
    if w < MIN_SIDE || h < MIN_SIDE || w > MAX_SIDE || h > MAX_SIDE {
        return Err(format!("implausible size {w}x{h}"));
    }
    Ok(())
}

/// True when every pixel equals the first, within `tolerance` per channel.
fn flat(pixels: &[u8], channels: usize, tolerance: u8) -> bool {
    if channels == 0 || pixels.len() < channels {
        return true;
    }
    let first = &pixels[..channels];
    pixels.chunks_exact(channels).all(|px| {
        px.iter()
            .zip(first)
            .all(|(a, b)| a.abs_diff(*b) <= tolerance)
    })
}

/// Checks one figure, decoding at most `max_decoded` bytes of pixels.
pub fn check_figure(path: &Path, max_decoded: u64) -> Result<(), String> {
    let lower = path.to_string_lossy().to_ascii_lowercase();
    if lower.ends_with(".png") {
        check_png(path, max_decoded)
    } else if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        read_bounded(path, max_decoded).and_then(|bytes| check_jpeg(&bytes, max_decoded))
    } else if lower.ends_with(".svg") {
        read_bounded(path, max_decoded).and_then(|bytes| check_svg(&bytes))
    } else {
        Ok(())
    }
}

/// The whole file, unless its size alone is over the bound.
fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > max {
        return Err(format!(
            "the file is {}, above max_decoded_figure_size ({}); not read",
            format_size(size),
            format_size(max)
        ));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

/// Refuses pixels that would decode to more than `max` bytes.
fn within_bound(w: u64, h: u64, channels: u64, max: u64) -> Result<(), String> {
    let bytes = w.saturating_mul(h).saturating_mul(channels);
    if bytes > max {
        return Err(format!(
            "{w}x{h} pixels x {channels} channel(s) would decode to {}, above \
             max_decoded_figure_size ({}); not decoded",
            format_size(bytes),
            format_size(max)
        ));
    }
    Ok(())
}

fn check_png(path: &Path, max_decoded: u64) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // The decoder's own allocations (text chunks, ICC profiles) share the bound.
    let limits = png::Limits {
        bytes: usize::try_from(max_decoded).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(std::io::BufReader::new(file), limits);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    // The chunks before the pixel data, never the pixels: the header's size and the
    // colour type after expansion (a palette or `tRNS` chunk adds channels).
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("not a valid PNG: {e}"))?;
    let (w, h) = (reader.info().width, reader.info().height);
    sane(w, h)?;
    let channels = reader.output_color_type().0.samples() as u64;
    within_bound(w.into(), h.into(), channels, max_decoded)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| "PNG too large to decode".to_string())?;
    // A bound raised past what the machine has fails this check, not the process.
    let mut buf = Vec::new();
    buf.try_reserve_exact(size)
        .map_err(|_| format!("cannot allocate {} to decode it", format_size(size as u64)))?;
    buf.resize(size, 0);
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("PNG does not decode: {e}"))?;
    let channels = info.color_type.samples();
    if flat(&buf[..info.buffer_size()], channels, 0) {
        return Err("a single flat colour".to_string());
    }
    Ok(())
}

fn check_jpeg(bytes: &[u8], max_decoded: u64) -> Result<(), String> {
    let mut decoder = zune_jpeg::JpegDecoder::new(bytes);
    decoder
        .decode_headers()
        .map_err(|e| format!("JPEG does not decode: {e:?}"))?;
    let (w, h) = decoder
        .dimensions()
        .ok_or_else(|| "JPEG has no dimensions".to_string())?;
    sane(w as u32, h as u32)?;
    let channels = decoder
        .get_output_colorspace()
        .map_or(3, |c| c.num_components());
    within_bound(w as u64, h as u64, channels.max(1) as u64, max_decoded)?;
    let pixels = decoder
        .decode()
        .map_err(|e| format!("JPEG does not decode: {e:?}"))?;
    // JPEG compression adds noise: a few levels of difference are still flat.
    if flat(&pixels, channels, 3) {
        return Err("a single flat colour".to_string());
    }
    Ok(())
}

fn check_svg(bytes: &[u8]) -> Result<(), String> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| "not valid SVG/XML: not UTF-8".to_string())?;
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("not valid SVG/XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return Err("the root element is not <svg>".to_string());
    }
    let number = |a: &str| {
        root.attribute(a)
            .map(|v| v.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%'))
            .and_then(|v| v.parse::<f64>().ok())
    };
    let from_viewbox = root.attribute("viewBox").and_then(|vb| {
        let parts: Vec<f64> = vb
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        (parts.len() == 4).then(|| (parts[2], parts[3]))
    });
    let (w, h) = match (number("width"), number("height"), from_viewbox) {
        (Some(w), Some(h), _) => (w, h),
        (_, _, Some(vb)) => vb,
        _ => return Err("SVG has neither width/height nor a viewBox".to_string()),
    };
    if !(w > 0.0 && h > 0.0) {
        return Err(format!("implausible size {w}x{h}"));
    }
    const DRAWN: [&str; 10] = [
        "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "image", "use",
    ];
    let drawn: Vec<&str> = doc
        .descendants()
        .filter(|n| n.is_element() && DRAWN.contains(&n.tag_name().name()))
        .map(|n| n.tag_name().name())
        .collect();
    // One rectangle alone is a background, not a figure.
    if drawn.is_empty() || drawn == ["rect"] {
        return Err("nothing is drawn".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = crate::model::config::DEFAULT_MAX_DECODED_FIGURE_SIZE;

    fn png(path: &Path, w: u32, h: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) {
        let f = std::fs::File::create(path).unwrap();
        let mut e = png::Encoder::new(std::io::BufWriter::new(f), w, h);
        e.set_color(png::ColorType::Rgb);
        e.set_depth(png::BitDepth::Eight);
        let mut wr = e.write_header().unwrap();
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&pixel(x, y));
            }
        }
        wr.write_image_data(&data).unwrap();
    }

    #[test]
    fn pngs() {
        let d = tempfile::tempdir().unwrap();
        let ok = d.path().join("ok.png");
        png(
            &ok,
            64,
            48,
            |x, y| if x > y { [255, 0, 0] } else { [0, 0, 255] },
        );
        check_figure(&ok, MAX).unwrap();
        let flat_png = d.path().join("flat.png");
        png(&flat_png, 64, 48, |_, _| [255, 255, 255]);
        assert_eq!(
            check_figure(&flat_png, MAX).unwrap_err(),
            "a single flat colour"
        );
        let tiny = d.path().join("tiny.png");
        png(&tiny, 2, 2, |x, _| [x as u8, 0, 0]);
        assert!(check_figure(&tiny, MAX)
            .unwrap_err()
            .contains("implausible size"));
        let broken = d.path().join("broken.png");
        std::fs::write(&broken, b"\x89PNG\r\n\x1a\nnope").unwrap();
        assert!(check_figure(&broken, MAX).unwrap_err().contains("PNG"));
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut c = !0u32;
        for b in data {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    /// A PNG whose header claims `w`×`h` RGB pixels, with a token IDAT chunk.
    pub fn claimed_png(w: u32, h: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut typed = kind.to_vec();
            typed.extend_from_slice(data);
            out.extend_from_slice(&typed);
            out.extend_from_slice(&crc32(&typed).to_be_bytes());
        };
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(b"IHDR", &ihdr);
        chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        chunk(b"IEND", &[]);
        out
    }

    #[test]
    fn a_header_claiming_gigabytes_is_refused_undecoded() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("huge.png");
        std::fs::write(&p, claimed_png(29_999, 29_999)).unwrap();
        let e = check_figure(&p, MAX).unwrap_err();
        assert_eq!(
            e,
            "29999x29999 pixels x 3 channel(s) would decode to 2.5 GiB, above \
             max_decoded_figure_size (256 MiB); not decoded"
        );
        // A real figure over a small bound is refused the same way, and passes under it.
        let ok = d.path().join("ok.png");
        png(&ok, 64, 48, |x, y| [x as u8, y as u8, 0]);
        let e = check_figure(&ok, 9_000).unwrap_err();
        assert!(
            e.contains("64x48 pixels x 3 channel(s) would decode to 9 KiB"),
            "{e}"
        );
        check_figure(&ok, 9_216).unwrap();
        // JPEG and SVG files are read whole: their size is checked first.
        let svg = d.path().join("big.svg");
        std::fs::write(&svg, " ".repeat(2048)).unwrap();
        let e = check_figure(&svg, 1024).unwrap_err();
        assert!(
            e.contains("the file is 2 KiB, above max_decoded_figure_size (1 KiB)"),
            "{e}"
        );
    }

    #[test]
    fn svgs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.svg");
        std::fs::write(&p, r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100" fill="white"/><path d="M0 0 L10 10"/></svg>"#).unwrap();
        check_figure(&p, MAX).unwrap();
        std::fs::write(&p, r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><rect width="200" height="100" fill="white"/></svg>"#).unwrap();
        assert_eq!(check_figure(&p, MAX).unwrap_err(), "nothing is drawn");
        std::fs::write(&p, "<svg").unwrap();
        assert!(check_figure(&p, MAX).unwrap_err().contains("not valid"));
        std::fs::write(
            &p,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><circle r="3"/></svg>"#,
        )
        .unwrap();
        assert!(check_figure(&p, MAX).unwrap_err().contains("viewBox"));
    }

    #[test]
    fn jpegs_that_do_not_decode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.jpg");
        std::fs::write(&p, b"\xff\xd8\xff\xe0garbage").unwrap();
        assert!(check_figure(&p, MAX).unwrap_err().contains("JPEG"));
    }
}
