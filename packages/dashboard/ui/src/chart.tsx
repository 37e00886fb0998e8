import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Bucket } from "./api.js";

/**
 * Finished jobs per bucket over a window, success and failed as two series,
 * all job types summed (or one type). Empty buckets are drawn as 0.
 */
export function ThroughputChart(props: {
  title: string;
  buckets: Bucket[];
  bucketSeconds: number;
  windowSeconds: number;
  jobType?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { buckets, bucketSeconds, windowSeconds, jobType } = props;

  const data = (): uPlot.AlignedData => {
    const now = Math.floor(Date.now() / 1000);
    const last = now - (now % bucketSeconds);
    const n = Math.floor(windowSeconds / bucketSeconds) + 1;
    const xs: number[] = [];
    for (let i = n - 1; i >= 0; i--) xs.push(last - i * bucketSeconds);
    const ok = xs.map(() => 0);
    const failed = xs.map(() => 0);
    for (const b of buckets) {
      if (jobType !== undefined && b.jobType !== jobType) continue;
      const i = xs.indexOf(b.bucket);
      if (i < 0) continue;
      if (b.status === 1) ok[i]! += b.count;
      else failed[i]! += b.count;
    }
    return [xs, ok, failed];
  };

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    plot.current = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height: 180,
        series: [
          {},
          { label: "success", stroke: "#2e7d32", fill: "rgba(46,125,50,0.1)", width: 1.5 },
          { label: "failed", stroke: "#c62828", fill: "rgba(198,40,40,0.1)", width: 1.5 },
        ],
        axes: [{}, { size: 40 }],
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      },
      data(),
      el,
    );
    const resize = () =>
      plot.current?.setSize({ width: Math.max(300, el.clientWidth), height: 180 });
    addEventListener("resize", resize);
    return () => {
      removeEventListener("resize", resize);
      plot.current?.destroy();
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data());
  }, [buckets, jobType]);

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
