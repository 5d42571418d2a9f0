//! `figures_non_trivial`: a PNG, JPEG or SVG output must decode, have sane
//! dimensions, and not be a single flat colour (or an SVG with nothing drawn).

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

pub fn check_figure(path: &Path) -> Result<(), String> {
    let lower = path.to_string_lossy().to_ascii_lowercase();
    if lower.ends_with(".png") {
        check_png(path)
    } else if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        check_jpeg(path)
    } else if lower.ends_with(".svg") {
        check_svg(path)
    } else {
        Ok(())
    }
}

fn check_png(path: &Path) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("not a valid PNG: {e}"))?;
    let (w, h) = (reader.info().width, reader.info().height);
    sane(w, h)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| "PNG too large to decode".to_string())?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("PNG does not decode: {e}"))?;
    let channels = info.color_type.samples();
    if flat(&buf[..info.buffer_size()], channels, 0) {
        return Err("a single flat colour".to_string());
    }
    Ok(())
}

fn check_jpeg(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let mut decoder = zune_jpeg::JpegDecoder::new(&bytes);
    let pixels = decoder
        .decode()
        .map_err(|e| format!("JPEG does not decode: {e:?}"))?;
    let (w, h) = decoder
        .dimensions()
        .ok_or_else(|| "JPEG has no dimensions".to_string())?;
    sane(w as u32, h as u32)?;
    let channels = decoder
        .get_output_colorspace()
        .map_or(3, |c| c.num_components());
    // JPEG compression adds noise: a few levels of difference are still flat.
    if flat(&pixels, channels, 3) {
        return Err("a single flat colour".to_string());
    }
    Ok(())
}

fn check_svg(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let doc = roxmltree::Document::parse(&text).map_err(|e| format!("not valid SVG/XML: {e}"))?;
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
        check_figure(&ok).unwrap();
        let flat_png = d.path().join("flat.png");
        png(&flat_png, 64, 48, |_, _| [255, 255, 255]);
        assert_eq!(check_figure(&flat_png).unwrap_err(), "a single flat colour");
        let tiny = d.path().join("tiny.png");
        png(&tiny, 2, 2, |x, _| [x as u8, 0, 0]);
        assert!(check_figure(&tiny)
            .unwrap_err()
            .contains("implausible size"));
        let broken = d.path().join("broken.png");
        std::fs::write(&broken, b"\x89PNG\r\n\x1a\nnope").unwrap();
        assert!(check_figure(&broken).unwrap_err().contains("PNG"));
    }

    #[test]
    fn svgs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.svg");
        std::fs::write(&p, r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100" fill="white"/><path d="M0 0 L10 10"/></svg>"#).unwrap();
        check_figure(&p).unwrap();
        std::fs::write(&p, r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><rect width="200" height="100" fill="white"/></svg>"#).unwrap();
        assert_eq!(check_figure(&p).unwrap_err(), "nothing is drawn");
        std::fs::write(&p, "<svg").unwrap();
        assert!(check_figure(&p).unwrap_err().contains("not valid"));
        std::fs::write(
            &p,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><circle r="3"/></svg>"#,
        )
        .unwrap();
        assert!(check_figure(&p).unwrap_err().contains("viewBox"));
    }

    #[test]
    fn jpegs_that_do_not_decode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.jpg");
        std::fs::write(&p, b"\xff\xd8\xff\xe0garbage").unwrap();
        assert!(check_figure(&p).unwrap_err().contains("JPEG"));
    }
}
