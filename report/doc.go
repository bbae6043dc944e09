// Package report renders event reports: one self-contained HTML file with
// headline figures, tables and inline SVG charts (no scripts, no external
// assets, so it can be mailed or archived as it is). The simulator and the
// post-event report build a Document and share this renderer; Analyze and
// TimelineSections turn a decision log into the sections both show.
package report

import "time"

// Document is a report: a title, headline figures and sections.
type Document struct {
	// Title heads the page; Subtitle says what it covers.
	Title    string
	Subtitle string
	// Figures are the headline numbers, Sections the body.
	Figures  []Figure
	Sections []Section
	// Generated is shown in the footer; zero leaves it out (a simulation
	// report carries none so that it is byte-identical run to run).
	Generated time.Time
}

// Figure is one headline number. Value is what people read; Raw is the
// number behind it, kept in a data attribute for tools and tests.
type Figure struct {
	// ID names the figure's element ("fig-" + ID).
	ID    string
	Label string
	Value string
	Raw   float64
	// Note is a line of context under the value.
	Note string
}

// Section is a titled part of the report: paragraphs, then its blocks in
// order.
type Section struct {
	// ID is the section's anchor.
	ID         string
	Title      string
	Paragraphs []string
	Blocks     []Block
}

// Block is one table or one chart.
type Block struct {
	// One of the two is set.
	Table *Table
	Chart *Chart
}

// Table is a simple data table. Numeric marks the columns to right-align.
type Table struct {
	// ID names the table element.
	ID      string
	Caption string
	Head    []string
	Rows    [][]string
	Numeric []bool
	// Note follows the table (what a column means, what was left out).
	Note string
}

// Chart is a time-series chart, drawn as inline SVG.
type Chart struct {
	// ID names the svg element; Title captions it.
	ID    string
	Title string
	// Unit labels the y axis ("Gbit/s", "%", "viewers").
	Unit string
	// YMax fixes the top of the y axis; 0 fits the data.
	YMax float64
	// Stacked draws the series as areas on top of each other, in order.
	Stacked bool
	// Steps draws each value flat until the next one (values that change
	// only when a decision is logged).
	Steps bool
	// Start and End bound the time axis; zero fits the data.
	Start time.Time
	End   time.Time
	// Series are drawn over the bands, references and marks over both.
	Series []Series
	Refs   []Ref
	Bands  []Band
	Marks  []Mark
}

// Series is one line (or area) of a chart.
type Series struct {
	// Name is shown in the legend; Color is any CSS colour.
	Name   string
	Color  string
	Dashed bool
	// Points are in time order.
	Points []Point
}

// Point is one value at one time.
type Point struct {
	// T is when, V the value.
	T time.Time
	V float64
}

// Ref is a horizontal reference line, such as 100 % of a commit.
type Ref struct {
	// V is the value the line is drawn at.
	V     float64
	Label string
	Color string
}

// Band shades a stretch of time: a fault, an override, a degraded CDN.
type Band struct {
	// From and To bound the stretch; Label says what it was.
	From  time.Time
	To    time.Time
	Label string
	Color string
}

// Mark is a vertical line at a moment: an annotation.
type Mark struct {
	// T is the moment, Label what happened.
	T     time.Time
	Label string
}

// Palette gives the n-th of a set of things (CDNs, usually) a colour that
// stays the same in every chart of a report.
func Palette(i int) string {
	colors := []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"}
	return colors[i%len(colors)]
}
