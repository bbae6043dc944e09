package edges

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

type fakeMedia map[string]string

func (m fakeMedia) File(name string) ([]byte, string, bool) {
	b, ok := m[name]
	return []byte(b), "video/mp2t", ok
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestMediaUnderTheKnobs: an edge serves the live stream's files with
// CORS, and its knobs break players' fetches as they break probes'.
func TestMediaUnderTheKnobs(t *testing.T) {
	e := startEdge(t, Healthy)
	base := strings.TrimSuffix(e.URL(), ObjectPath) + MediaPrefix
	if resp, _ := get(t, base+"hls/seg_1.ts"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("no stream set: %d, want 404", resp.StatusCode)
	}
	e.SetMedia(fakeMedia{"hls/seg_1.ts": "segment one"})
	resp, body := get(t, base+"hls/seg_1.ts")
	if resp.StatusCode != 200 || body != "segment one" || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Content-Type") != "video/mp2t" {
		t.Errorf("segment: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, _ := get(t, base+"hls/nope.ts"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing file: %d", resp.StatusCode)
	}
	if _, err := e.Update(Patch{ErrorRate: f(1)}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, base+"hls/seg_1.ts"); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("error rate 1: %d, CORS %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if st := e.Stats(); st.MediaRequests != 3 || st.MediaErrors != 1 || st.Requests != 0 {
		t.Errorf("stats %+v: players' requests counted apart from probes'", st)
	}
}
