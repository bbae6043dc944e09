package edges

import (
	"errors"
	"fmt"
)

// Fleet is a set of edges, one per CDN, in a fixed order.
type Fleet struct {
	edges []*Edge
}

// Status is an edge as the demo API shows it: its knobs, where it serves
// and what it has answered.
type Status struct {
	CDN string `json:"cdn"`
	URL string `json:"url"`
	Knobs
	Stats
}

// StartFleet starts one edge per name, each with knobs k. If one cannot
// start, those already started are closed.
func StartFleet(names []string, k Knobs) (*Fleet, error) {
	f := &Fleet{}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			f.Close()
			return nil, fmt.Errorf("edge %s: named twice", n)
		}
		seen[n] = true
		e, err := Start(n, k)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.edges = append(f.edges, e)
	}
	return f, nil
}

// Edge returns the edge of a CDN, or nil if there is none.
func (f *Fleet) Edge(cdn string) *Edge {
	for _, e := range f.edges {
		if e.name == cdn {
			return e
		}
	}
	return nil
}

// Edges returns the edges in the order they were started.
func (f *Fleet) Edges() []*Edge { return append([]*Edge(nil), f.edges...) }

// Status returns every edge's status, in order.
func (f *Fleet) Status() []Status {
	out := make([]Status, len(f.edges))
	for i, e := range f.edges {
		out[i] = e.Status()
	}
	return out
}

// Status returns the edge's knobs, URL and counters.
func (e *Edge) Status() Status {
	return Status{CDN: e.name, URL: e.URL(), Knobs: e.Knobs(), Stats: e.Stats()}
}

// Close stops every edge.
func (f *Fleet) Close() error {
	var errs []error
	for _, e := range f.edges {
		errs = append(errs, e.Close())
	}
	return errors.Join(errs...)
}
