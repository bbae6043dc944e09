package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// annotationRequest is the body of POST /api/v1/annotations.
type annotationRequest struct {
	Text string   `json:"text"`
	Tags []string `json:"tags"`
	Time string   `json:"time"`
}

// annotationJSON is an annotation as the API answers it: tags always
// present, so clients need not tell a missing list from an empty one.
type annotationJSON struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Text string    `json:"text"`
	Tags []string  `json:"tags"`
	By   string    `json:"by,omitempty"`
}

func toJSON(n health.Annotation) annotationJSON {
	tags := n.Tags
	if tags == nil {
		tags = []string{}
	}
	return annotationJSON{ID: n.ID, Time: n.Time, Text: n.Text, Tags: tags, By: n.By}
}

// postAnnotation adds a note to the timeline.
func (a *api) postAnnotation(w http.ResponseWriter, r *http.Request) {
	var req annotationRequest
	if !decodeRequest(w, r, &req) {
		return
	}
	n := health.Annotation{Text: req.Text, Tags: req.Tags, By: who(r)}
	if req.Time != "" {
		t, rerr := parseTime("time", req.Time)
		if rerr != nil {
			writeRequestError(w, rerr)
			return
		}
		n.Time = t
	}
	n, err := a.cfg.Annotations.Add(n, a.cfg.Now())
	if err != nil {
		a.writeEngineError(w, err, "adding the annotation")
		return
	}
	if a.cfg.Fleet != nil {
		a.cfg.Fleet.AnnotationAdded(n)
	}
	a.cfg.Logger.Info("annotation added via API", "id", n.ID, "text", n.Text, "who", n.By, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusCreated, toJSON(n))
}

// listAnnotations answers the timeline, oldest first, optionally only
// from ?since= on (for a view that polls for new notes).
func (a *api) listAnnotations(w http.ResponseWriter, r *http.Request) {
	since, rerr := sinceParam(r)
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	notes := a.cfg.Annotations.Since(since)
	out := make([]annotationJSON, len(notes))
	for i, n := range notes {
		out[i] = toJSON(n)
	}
	writeJSON(w, http.StatusOK, map[string][]annotationJSON{"annotations": out})
}

// sinceParam reads the only query parameter a polling endpoint takes,
// ?since=RFC3339 (zero when absent).
func sinceParam(r *http.Request) (time.Time, *requestError) {
	q, rerr := query(r, "since")
	if rerr != nil {
		return time.Time{}, rerr
	}
	s := q.Get("since")
	if s == "" {
		return time.Time{}, nil
	}
	t, rerr := parseTime("since", s)
	if rerr != nil {
		rerr.msg += plusHint(s)
	}
	return t, rerr
}

// plusHint explains the usual reason a time in a query string does not
// parse: an unencoded "+" of a zone offset arrives as a space.
func plusHint(s string) string {
	if strings.Contains(s, " ") {
		return ` (write the "+" of a zone offset as %2B)`
	}
	return ""
}
