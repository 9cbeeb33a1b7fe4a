// Draws each chart of a page from the figures its element carries in data-chart.
// An enhancement only: the table after each chart holds the same figures, and
// without JavaScript (or Chart.js) the tables are all there is.

// Colours with at least 3:1 contrast against white (WCAG 1.4.11), from GOV.UK's palette.
const PALETTE = ["#1d70b8", "#00703c", "#4c2c92", "#b58840", "#912b88", "#d4351c", "#003078", "#28a197", "#505a5f"];
const NAMED = {
  make: "#1d70b8",
  buy: "#4c2c92",
  share: "#00703c",
  experiment: "#b58840",
  not_started: "#505a5f",
  discovery: "#003078",
  alpha: "#1d70b8",
  private_beta: "#6f72af",
  public_beta: "#4c2c92",
  live: "#00703c",
  retired: "#28a197",
  paused: "#b58840",
  stopped: "#d4351c",
};
// Lines are told apart by their points' shapes as well as their colours (WCAG 1.4.1).
const POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star", "rectRounded", "cross", "line"];
const TEXT = "#0b0c0c";
const GRID = "#b1b4b6";

// A long label (a council's name) as lines of about `width` characters, so that a narrow
// screen does not cut it off.
function wrap(label, width = 16) {
  const lines = [];
  for (const word of String(label).split(" ")) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + word.length < width) {
      lines[last] += ` ${word}`;
    } else {
      lines.push(word);
    }
  }
  return lines;
}

function colour(series, index) {
  return NAMED[series.key] || PALETTE[index % PALETTE.length];
}

function barChart(spec) {
  const horizontal = Boolean(spec.horizontal);
  const counted = { beginAtZero: true, stacked: spec.stacked, ticks: { precision: 0 }, title: { display: true, text: spec.axis } };
  const named = {
    stacked: spec.stacked,
    grid: { display: false },
    ticks: {
      // Every council is named: height() leaves room for each label's lines, and a
      // skipped label would leave a bar nobody can put a name to.
      autoSkip: !horizontal,
      callback(value) {
        return horizontal ? wrap(this.getLabelForValue(value)) : this.getLabelForValue(value);
      },
    },
  };
  return {
    type: "bar",
    data: {
      labels: spec.labels,
      datasets: spec.series.map((series, index) => ({
        label: series.label,
        data: series.values,
        backgroundColor: colour(series, index),
        borderColor: "#ffffff",
        borderWidth: 1,
      })),
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      scales: horizontal ? { x: counted, y: named } : { x: named, y: counted },
    },
  };
}

function lineChart(spec) {
  const levels = spec.levels;
  return {
    type: "line",
    data: {
      labels: spec.labels,
      datasets: spec.series.map((series, index) => ({
        label: series.label,
        data: series.values,
        borderColor: colour(series, index),
        backgroundColor: colour(series, index),
        pointStyle: POINTS[index % POINTS.length],
        pointRadius: 5,
        stepped: "before",
        spanGaps: false,
      })),
    },
    options: {
      scales: {
        y: {
          min: 0.5,
          max: levels.length + 0.5,
          afterBuildTicks: (axis) => {
            axis.ticks = levels.map((_, i) => ({ value: i + 1 }));
          },
          ticks: { callback: (value) => levels[value - 1] || "" },
        },
      },
      plugins: {
        legend: { labels: { usePointStyle: true } },
        tooltip: {
          callbacks: { label: (item) => `${item.dataset.label}: ${levels[item.parsed.y - 1]}` },
        },
      },
    },
  };
}

// A benefit's measurements from its baseline beside the straight path to its target: two
// lines over the dates, each point where there is a figure, gaps bridged.
function pathChart(spec) {
  return {
    type: "line",
    data: {
      labels: spec.labels,
      datasets: spec.series.map((series, index) => ({
        label: series.label,
        data: series.values,
        borderColor: PALETTE[index % PALETTE.length],
        backgroundColor: PALETTE[index % PALETTE.length],
        pointStyle: POINTS[index % POINTS.length],
        pointRadius: 5,
        borderDash: index === 1 ? [6, 4] : [],
        spanGaps: true,
      })),
    },
    options: {
      scales: { y: { title: { display: true, text: spec.axis } } },
      plugins: { legend: { labels: { usePointStyle: true } } },
    },
  };
}

// A horizontal bar chart's height, in rem: room for each bar, or for its label's lines
// where they take more (a council's name and a project's title take four or five).
function height(spec) {
  if (!spec.horizontal) {
    return 22;
  }
  const rows = spec.labels.map((label) => Math.max(3, wrap(label).length * 1.4 + 0.6));
  return Math.max(12, rows.reduce((sum, row) => sum + row, 0) + 8);
}

function draw(element, Chart) {
  const spec = JSON.parse(element.dataset.chart);
  const config =
    spec.type === "path" ? pathChart(spec) : spec.type === "line" ? lineChart(spec) : barChart(spec);
  config.options.maintainAspectRatio = false;
  config.options.animation = false;
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", spec.label);
  canvas.textContent = spec.label;
  element.style.height = `${height(spec)}rem`;
  element.append(canvas);
  new Chart(canvas, config);
  element.classList.add("app-chart--drawn");
}

const Chart = window.Chart;
if (Chart) {
  Chart.defaults.font.family = "arial, sans-serif";
  Chart.defaults.font.size = 14;
  Chart.defaults.color = TEXT;
  Chart.defaults.borderColor = GRID;
  for (const element of document.querySelectorAll("[data-chart]")) {
    draw(element, Chart);
  }
}
