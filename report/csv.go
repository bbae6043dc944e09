package report

import (
	"encoding/csv"
	"io"
	"strings"
)

// Tables are the document's tables, in page order: what is exported as
// CSV beside the page.
func (d *Document) Tables() []*Table {
	var out []*Table
	for _, s := range d.Sections {
		for _, b := range s.Blocks {
			if b.Table != nil {
				out = append(out, b.Table)
			}
		}
	}
	return out
}

// WriteCSV writes the table with its head as the first record. Numeric
// columns lose the thousands separators the page shows, so that a
// spreadsheet reads them as numbers.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(t.Head)
	for _, row := range t.Rows {
		rec := make([]string, len(row))
		for i, c := range row {
			if i < len(t.Numeric) && t.Numeric[i] {
				c = strings.ReplaceAll(c, ",", "")
			}
			rec[i] = c
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}
