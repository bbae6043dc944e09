package report

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"
)

// Render writes the document as one self-contained HTML page: styles
// inline, charts as inline SVG, no script and nothing fetched.
func Render(w io.Writer, d *Document) error {
	if err := page.Execute(w, d); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	// The SVG is built from escaped text by Chart.SVG, so it is safe
	// to insert as it is.
	"svg": func(c *Chart) template.HTML { return template.HTML(c.SVG()) },
	"raw": func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) },
	"align": func(t *Table, i int) string {
		if i < len(t.Numeric) && t.Numeric[i] {
			return "num"
		}
		return ""
	},
	"stamp": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0 auto; max-width: 1040px; padding: 16px 24px 48px; }
h1 { font-size: 24px; margin: 8px 0 2px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #555; margin: 0 0 16px; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 130px; flex: 1; }
.figure .label { color: #555; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.figure .value { font-size: 22px; font-weight: 600; }
.figure .note { color: #666; font-size: 12px; }
nav ul { columns: 3; padding-left: 18px; }
.table { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0; width: 100%; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: 13px; }
figure { margin: 12px 0 20px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
svg .band-label { fill: #a33; }
.legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 14px; font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
footer { margin-top: 40px; color: #777; font-size: 12px; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
{{if .Subtitle}}<p class="sub">{{.Subtitle}}</p>{{end}}
</header>
{{if .Figures}}<section class="figures" id="figures">
{{range .Figures}}<div class="figure" id="fig-{{.ID}}" data-value="{{raw .Raw}}"><div class="label">{{.Label}}</div><div class="value">{{.Value}}</div>{{if .Note}}<div class="note">{{.Note}}</div>{{end}}</div>
{{end}}</section>{{end}}
<nav><ul>{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a></li>{{end}}</ul></nav>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{range .Blocks}}{{with .Chart}}<figure id="figure-{{.ID}}">
<figcaption>{{.Title}}</figcaption>
{{svg .}}
<ul class="legend">{{range .Series}}<li><span class="swatch" style="background: {{.Color}}"></span>{{.Name}}</li>{{end}}</ul>
</figure>
{{end}}{{with .Table}}{{$t := .}}<div class="table"><table id="{{.ID}}">
{{if .Caption}}<caption>{{.Caption}}</caption>{{end}}
<thead><tr>{{range $i, $h := .Head}}<th class="{{align $t $i}}">{{$h}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range $i, $c := .}}<td class="{{align $t $i}}">{{$c}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
{{end}}{{end}}</section>
{{end}}
<footer>cdnsteer report{{if not .Generated.IsZero}} · generated {{stamp .Generated}}{{end}}</footer>
</body>
</html>
`))
