package admin

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/cdnsteer/cdnsteer/health"
)

// maxStatePage bounds the policies one GET /api/v1/state answers: with a
// thousand steered names (a policy each) the whole state was 16.6 MB a
// poll. A policy of 20 regions and 6 CDNs is about 50 KB, so a page of 20
// about 1 MB; the live view asks for one policy.
const maxStatePage = 20

// statePage is what GET /api/v1/state adds to the view about the page.
type statePage struct {
	// PolicyNames are all the policies, in order, so that a client
	// showing some can offer the others.
	PolicyNames []string `json:"policy_names"`
	// Next is the after= of the next page; absent on the last.
	Next string `json:"next,omitempty"`
}

// stateSelection reads GET /api/v1/state's parameters: policy=NAME for
// one policy, else a page of limit= policies (1..20, default 20) after
// the policy named by after=.
func (a *api) stateSelection(r *http.Request) (health.View, statePage, *requestError) {
	q, rerr := query(r, "policy", "limit", "after")
	if rerr != nil {
		return health.View{}, statePage{}, rerr
	}
	e := a.cfg.Engine
	names := e.PolicyNames()
	page := statePage{PolicyNames: names}
	if p := q.Get("policy"); q.Has("policy") {
		if q.Has("limit") || q.Has("after") {
			return health.View{}, page, badRequest("policy", "policy= names one policy; limit= and after= page through all of them")
		}
		if !slices.Contains(names, p) {
			return health.View{}, page, badRequest("policy", "no policy named %q", p)
		}
		return e.ViewOf(a.cfg.Now(), func(name string) bool { return name == p }), page, nil
	}
	limit := maxStatePage
	if s := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxStatePage {
			return health.View{}, page, badRequest("limit", "limit must be a whole number from 1 to %d, not %q", maxStatePage, s)
		}
		limit = n
	}
	start := 0
	if after := q.Get("after"); q.Has("after") {
		i := slices.Index(names, after)
		if i < 0 {
			return health.View{}, page, badRequest("after", "no policy named %q", after)
		}
		start = i + 1
	}
	end := min(start+limit, len(names))
	in := map[string]bool{}
	for _, n := range names[start:end] {
		in[n] = true
	}
	if end < len(names) && end > 0 {
		page.Next = names[end-1]
	}
	return e.ViewOf(a.cfg.Now(), func(name string) bool { return in[name] }), page, nil
}
