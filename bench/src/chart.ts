/**
 * The benchmark bar chart, drawn with vega-lite (compiled to a vega spec and rendered
 * headless by vega to an SVG string; no browser, no canvas): one panel per scenario and
 * variant, stacked vertically, each with its own x scale since throughputs differ by an
 * order of magnitude between panels, and one horizontal bar per system, ours in blue and
 * the others in grey, with the value printed at the end of each bar.
 */
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export interface Panel {
  title: string;
  bars: { label: string; value: number; ours: boolean }[];
}

const OURS = "persistent-queue";
const OTHERS = "peers and references";

/** The vega-lite spec: kept separate from the rendering so that it can be inspected. */
export function barChartSpec(title: string, panels: Panel[]): TopLevelSpec {
  const rows = (panel: Panel) =>
    panel.bars.map((bar) => {
      const finite = Number.isFinite(bar.value);
      return {
        system: bar.label,
        // A missing value (NaN, or null once through JSON) gets an empty bar and "n/a".
        value: finite ? bar.value : 0,
        text: finite ? Math.round(bar.value).toLocaleString("en") : "n/a",
        // Room for the printed value past the longest bar, in the panel's own scale.
        room: finite ? bar.value * 1.16 : 0,
        group: bar.ours ? OURS : OTHERS,
      };
    });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    description: title,
    background: "white",
    padding: 12,
    title: { text: title, anchor: "start", fontSize: 16, offset: 14 },
    // One panel under the other, each a layer of its own data: bars, the printed values, and
    // an invisible mark that only widens the x domain so that the printed value fits.
    vconcat: panels.map((panel) => ({
      title: { text: panel.title, anchor: "start", fontSize: 13, frame: "group", offset: 8 },
      data: { values: rows(panel) },
      width: 480,
      height: { step: 22 },
      encoding: {
        y: {
          field: "system",
          type: "nominal",
          title: null,
          // The systems in the order the caller gave them, not alphabetically.
          sort: null,
          axis: { labelLimit: 0, labelFontSize: 12, labelPadding: 6, ticks: false, domain: false },
        },
      },
      layer: [
        {
          mark: { type: "bar", height: 16 },
          encoding: {
            x: {
              field: "value",
              type: "quantitative",
              title: null,
              stack: null,
              axis: {
                format: "~s",
                labelExpr: 'datum.value === 0 ? "0" : datum.label',
                grid: true,
                tickCount: 5,
                labelFontSize: 10,
                labelColor: "#666",
              },
            },
            color: {
              field: "group",
              type: "nominal",
              title: null,
              scale: { domain: [OURS, OTHERS], range: ["#2f6fb5", "#a0a0a0"] },
              legend: { orient: "top", direction: "horizontal", labelFontSize: 12, labelLimit: 0 },
            },
          },
        },
        {
          mark: { type: "text", align: "left", baseline: "middle", dx: 4, fontSize: 12 },
          encoding: { x: { field: "value", type: "quantitative" }, text: { field: "text" } },
        },
        {
          mark: { type: "point", opacity: 0 },
          encoding: { x: { field: "room", type: "quantitative" } },
        },
      ],
    })),
    spacing: 26,
    resolve: { scale: { x: "independent", y: "independent", color: "shared" } },
    // Every value is finite (see above), so no mark needs vega-lite's filter of invalid values.
    config: { view: { stroke: null }, font: "sans-serif", mark: { invalid: null }, aria: false },
  };
}

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * Renders the chart to a standalone SVG document. Vega's ARIA annotations of its inner
 * groups and texts (role="graphics-object" and the like) are dropped, which biome's HTML
 * a11y lint reads as roles on interactive elements; the document as a whole is instead one
 * image with a <title> (benchmarks.md embeds it as an image, whose inner tree is not exposed
 * to assistive technology anyway).
 */
export async function barChart(title: string, panels: Panel[]): Promise<string> {
  const view = new View(parse(compile(barChartSpec(title, panels)).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    return `${svg
      .replace(/ (?:role|aria-roledescription|aria-label)="[^"]*"/g, "")
      .replace(/^<svg ([^>]*)>/, `<svg role="img" $1><title>${esc(title)}</title>`)}\n`;
  } finally {
    view.finalize();
  }
}
