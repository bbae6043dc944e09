package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// api holds what the /api/v1 handlers share.
type api struct {
	cfg  Config
	auth *auth
}

// route is one path's handlers by method.
type route map[string]http.HandlerFunc

// ServeHTTP dispatches on the method. The mux's own method matching is not
// used because its 405 is plain text and the catch-all "/" would shadow it;
// here a wrong method gets a JSON 405 with the Allow header.
func (rt route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.Method
	if method == http.MethodHead && rt[http.MethodGet] != nil {
		method = http.MethodGet
	}
	if h := rt[method]; h != nil {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(rt)+1)
	for m := range rt {
		allow = append(allow, m)
		if m == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	sort.Strings(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed here; allowed: "+strings.Join(allow, ", "))
}

// write wraps a handler that changes state: it needs a write token,
// whose name the handler finds with who(r).
func (a *api) write(h http.HandlerFunc) http.HandlerFunc {
	return a.need(RoleWrite, h)
}

// read wraps a handler that discloses state: it needs a read token
// unless reads are open.
func (a *api) read(h http.HandlerFunc) http.HandlerFunc {
	return a.need(RoleRead, h)
}

func (a *api) need(role Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if name, ok := a.auth.authorize(w, r, role); ok {
			h(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, name)))
		}
	}
}

// byWho is the reason of an ending as the decision log keeps it: with
// the name of the token that ended it.
func byWho(reason, name string) string {
	if reason == "" {
		return "by " + name
	}
	return reason + " (by " + name + ")"
}

// whoKey holds, in a request's context, the name of the token it came with.
type whoKey struct{}

// who is the name of the token r came with: who is recorded for every
// change ("" for a read let through without one).
func who(r *http.Request) string {
	name, _ := r.Context().Value(whoKey{}).(string)
	return name
}

// engine wraps a handler that needs the health engine: without one it
// answers 503, as the state it would report does not exist.
func (a *api) engine(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Engine == nil {
			writeError(w, http.StatusServiceUnavailable, "health engine not running")
			return
		}
		h(w, r)
	}
}

// query returns r's query parameters, refusing names outside allowed and
// repeated ones: a misspelt parameter would otherwise be silently ignored
// and the answer would look right while answering another question.
func query(r *http.Request, allowed ...string) (url.Values, *requestError) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("", "invalid query string: %v", err)
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return nil, badRequest(name, "unknown query parameter %q: this endpoint takes none", name)
			}
			return nil, badRequest(name, "unknown query parameter %q (allowed: %s)", name, strings.Join(allowed, ", "))
		}
		if len(q[name]) > 1 {
			return nil, badRequest(name, "query parameter %q given more than once", name)
		}
	}
	return q, nil
}

// register adds the /api/v1 routes to mux. Paths are registered without a
// method so that route answers a wrong method itself.
func (a *api) register(mux *http.ServeMux) {
	mux.Handle("/api/v1/state", route{http.MethodGet: a.read(a.engine(a.getState))})
	mux.Handle("/api/v1/kinds", route{http.MethodGet: a.read(a.getKinds)})
	mux.Handle("/api/v1/signals", route{http.MethodPost: a.write(a.engine(a.postSignals))})
	mux.Handle("/api/v1/overrides", route{
		http.MethodGet:  a.read(a.engine(a.listOverrides)),
		http.MethodPost: a.write(a.engine(a.postOverride)),
	})
	mux.Handle("/api/v1/overrides/{id}", route{http.MethodDelete: a.write(a.engine(a.deleteOverride))})
	mux.Handle("/api/v1/annotations", route{
		http.MethodGet:  a.read(a.listAnnotations),
		http.MethodPost: a.write(a.postAnnotation),
	})
	mux.Handle("/api/v1/explain", route{http.MethodGet: a.read(a.getExplain)})
	mux.Handle("/api/v1/history", route{http.MethodGet: a.read(a.getHistory)})
	mux.Handle("/api/v1/decisions", route{http.MethodGet: a.read(a.getDecisions)})
	mux.Handle("/api/v1/fleet", route{http.MethodGet: a.read(a.getFleet)})
	mux.Handle("/api/v1/whoami", route{http.MethodGet: a.read(a.getWhoami)})
	a.registerPlans(mux)
	a.registerEscalations(mux)
	a.registerDemo(mux)
}

// getWhoami answers the name and role of the token sent, so that the live
// view can show whose token it keeps and whether it may write.
func (a *api) getWhoami(w http.ResponseWriter, r *http.Request) {
	if _, rerr := query(r); rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	ans := map[string]any{"name": who(r), "role": "", "open_reads": a.auth.openReads}
	if st := a.auth.state.Load(); st.tokens != nil {
		if given, ok := bearer(r.Header.Get("Authorization")); ok {
			if tk, ok := st.tokens.lookup(given); ok {
				ans["role"] = tk.role.String()
			}
		}
	}
	writeJSON(w, http.StatusOK, ans)
}
