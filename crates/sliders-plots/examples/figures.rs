//! Writes a sample sliding-attribute grid, training curves, a slider-response chart, a results
//! bar chart and the results table (Markdown, CSV, Parquet) into the folder given as argument:
//!
//! ```text
//! cargo run -p sliders-plots --example figures -- /tmp/figures
//! ```

use std::path::PathBuf;

use sliders_plots::{
    BarChart, BarSeries, CurveChart, ImageGrid, Panel, PlotsError, RgbImage, Series, Table,
};

/// A synthetic 32x32 "face": skin-coloured disc, dark eyes, and a mouth whose curve follows
/// `smile` (the attribute a Fader slider would move).
fn face(seed: u32, smile: f64) -> RgbImage {
    let (w, h) = (32u32, 32u32);
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    let tint = (seed * 37 % 60) as f64;
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f64 - 15.5, y as f64 - 15.5);
            let in_face = fx * fx / 120.0 + fy * fy / 170.0 < 1.0;
            let eye = ((fx.abs() - 5.0).powi(2) + (fy + 4.0).powi(2)) < 3.0;
            let mouth_y = 7.0 - smile * 0.05 * (25.0 - fx * fx).max(0.0);
            let mouth = fx.abs() < 5.0 && (fy - mouth_y).abs() < 1.0;
            let px = if !in_face {
                [40 + (seed * 50 % 120) as u8, 60, 90]
            } else if eye || mouth {
                [60, 30, 30]
            } else {
                [
                    (230.0 - tint) as u8,
                    (190.0 - tint) as u8,
                    (160.0 - tint) as u8,
                ]
            };
            data.extend_from_slice(&px);
        }
    }
    RgbImage {
        width: w,
        height: h,
        data,
    }
}

fn main() -> Result<(), PlotsError> {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            eprintln!("usage: figures <output folder>");
            std::process::exit(2)
        });
    std::fs::create_dir_all(&out).map_err(|e| PlotsError::Io {
        path: out.clone(),
        action: "create folder",
        source: e,
    })?;

    // Sliding-attribute grid: original, reconstruction, then alpha values.
    let alphas = [-2.0, -1.0, 0.0, 1.0, 2.0, 3.0];
    let rows: Vec<Vec<RgbImage>> = (0..3)
        .map(|r| {
            let mut row = vec![face(r, 0.0), face(r, 0.0)];
            row.extend(alphas.iter().map(|&a| face(r, a / 2.0)));
            row
        })
        .collect();
    let mut cols = vec!["original".to_string(), "reconstruction".to_string()];
    cols.extend(alphas.iter().map(|a| format!("α={a}")));
    ImageGrid::new(rows)
        .with_title("Smiling: sliding the attribute")
        .with_col_labels(cols)
        .with_row_labels(["face 1", "face 2", "face 3"])
        .write_png(&out.join("grid_smiling.png"))?;

    // Training curves: three metrics on different scales, stacked, sharing the step axis.
    let steps: Vec<f64> = (0..=80).map(|i| f64::from(i) * 100.0).collect();
    let loss = steps.iter().map(|&s| (s, 0.02 + 0.1 * (-s / 1500.0).exp()));
    let acc = steps.iter().map(|&s| {
        (
            s,
            0.5 + 0.3 * (1.0 - (-s / 2000.0).exp()) + 0.02 * (s / 300.0).sin(),
        )
    });
    let lambda = steps.iter().map(|&s| (s, 1e-4 * (s / 4000.0).min(1.0)));
    CurveChart::new("Fader training (Smiling)", "step")
        .with_panel(Panel::new("reconstruction MSE").with_series(Series::new("train", loss)))
        .with_panel(
            Panel::new("latent discr. accuracy")
                .with_y_range(0.0, 1.0)
                .with_series(Series::new("accuracy", acc)),
        )
        .with_panel(Panel::new("λ_E").with_series(Series::new("lambda", lambda)))
        .write_png(&out.join("training_curves.png"))?;

    // Slider response: P(attribute) as a function of alpha.
    let sig = |a: f64, k: f64, c: f64| 1.0 / (1.0 + (-k * (a - c)).exp());
    let xs: Vec<f64> = (0..=10).map(|i| -2.0 + f64::from(i) * 0.5).collect();
    let panel = ["Smiling", "Mouth_Slightly_Open", "Eyeglasses"]
        .iter()
        .zip([(2.5, 0.0), (2.0, 0.3), (1.5, 1.0)])
        .fold(
            Panel::new("P(attribute) by the classifier").with_y_range(0.0, 1.0),
            |p, (name, (k, c))| {
                p.with_series(Series::new(*name, xs.iter().map(|&a| (a, sig(a, k, c)))))
            },
        );
    CurveChart::new("Slider response", "α")
        .with_panel(panel)
        .write_png(&out.join("slider_response.png"))?;

    // Results: grouped bars with 95% intervals, one group per attribute.
    let groups = ["Mouth_Slightly_Open", "Smiling", "Eyeglasses"];
    let rows: [(&str, [Option<f64>; 3]); 5] = [
        ("Real Image", [Some(0.87), Some(0.90), Some(0.97)]),
        ("IcGAN AE", [Some(0.80), Some(0.82), Some(0.90)]),
        ("IcGAN Swap", [Some(0.62), Some(0.65), None]),
        ("FadNet AE", [Some(0.96), Some(0.98), Some(0.88)]),
        ("FadNet Swap", [Some(0.70), Some(0.74), Some(0.61)]),
    ];
    let chart = rows.iter().fold(
        BarChart::new("Attribute accuracy (classifier judge)", "accuracy", groups),
        |chart, (name, values)| {
            let intervals = values.map(|v| v.map(|v| (v - 0.04, (v + 0.04).min(1.0))));
            chart.with_series(BarSeries::new(*name, *values).with_intervals(intervals))
        },
    );
    chart.write_png(&out.join("accuracy_bars.png"))?;

    // The same numbers as a table.
    let mut table = Table::new().with_text("Model", rows.iter().map(|r| r.0))?;
    for (g, group) in groups.iter().enumerate() {
        table = table.with_optional_numbers(*group, rows.iter().map(|r| r.1[g]), 3)?;
    }
    let table = table.with_footnote("not evaluated in this run");
    table.to_csv(&out.join("accuracy.csv"))?;
    table.to_parquet(&out.join("accuracy.parquet"))?;
    let md = table.to_markdown();
    sliders_plots::write_bytes_atomic(&out.join("accuracy.md"), md.as_bytes())?;
    println!("{md}");
    println!("wrote figures and tables to {}", out.display());
    Ok(())
}
