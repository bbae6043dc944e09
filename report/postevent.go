package report

import (
	"fmt"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// PostEvent is the report of a real event from its decision log: headline
// figures, then the timeline sections. skipped is how many log lines did
// not parse (a crash leaves a partial last line); source names the log.
func PostEvent(ds []health.Decision, skipped int, source string) *Document {
	tl := Analyze(ds, time.Time{})
	var degraded time.Duration
	degr, shifts := 0, 0
	for k := range tl.Status {
		degraded += tl.DegradedTime(k)
	}
	for _, n := range tl.Degradations {
		degr += n
	}
	for _, n := range tl.Shifts {
		shifts += n
	}
	sub := fmt.Sprintf("From the decision log %s: %s to %s UTC.", source, tl.Start.UTC().Format("2006-01-02 15:04"), tl.End.UTC().Format("2006-01-02 15:04"))
	if skipped > 0 {
		sub += fmt.Sprintf(" %d lines of the log did not parse and were skipped.", skipped)
	}
	doc := &Document{
		Title:    "Post-event report",
		Subtitle: sub,
		Figures: []Figure{
			{ID: "duration", Label: "Covered", Value: Duration(tl.End.Sub(tl.Start)), Raw: tl.End.Sub(tl.Start).Seconds()},
			{ID: "degradations", Label: "Degradations", Value: Int(float64(degr)), Raw: float64(degr), Note: "a CDN declared degraded in a region"},
			{ID: "degraded-time", Label: "CDN-region time degraded", Value: Duration(degraded), Raw: degraded.Seconds(), Note: "summed over CDNs and regions"},
			{ID: "shifts", Label: "Split moves", Value: Int(float64(shifts)), Raw: float64(shifts)},
			{ID: "overrides", Label: "Overrides", Value: Int(float64(len(tl.Overrides))), Raw: float64(len(tl.Overrides))},
			{ID: "annotations", Label: "Annotations", Value: Int(float64(len(tl.Annotations))), Raw: float64(len(tl.Annotations))},
		},
		Sections: TimelineSections(tl),
	}
	return doc
}
