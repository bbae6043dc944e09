package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// maxBody bounds a request body: the largest legitimate one, a batch of
// signals, fits easily, and a client cannot make the server buffer more.
const maxBody = 1 << 20

// apiError is the body of every error answer. Field names the request
// field at fault when it is known, so that a tool can point at it.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// requestError is a client mistake: its status (400, 413 …), the message
// and the field it concerns.
type requestError struct {
	status int
	field  string
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// badRequest is a 400 about field (which may be empty).
func badRequest(field, format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, field: field, msg: fmt.Sprintf(format, args...)}
}

// fieldError turns a key error of the engine into a 400, with the field
// prefixed by where in the request it sits (signals[2] and so on).
func fieldError(prefix string, fe *keyerr.Error) *requestError {
	field := fe.Key
	if prefix != "" {
		field = prefix + "." + fe.Key
		// The engine says "signals" for a signal that carries no value:
		// that is the entry itself.
		if fe.Key == "signals" {
			field = prefix
		}
	}
	return badRequest(field, "%s: %s", field, fe.Msg)
}

// writeJSON answers v as JSON. The body is marshalled before the header
// goes out, so a value that cannot be encoded becomes a clean 500 rather
// than a 200 with half a body.
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body, _ = json.Marshal(apiError{Error: "cannot encode the answer: " + err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// Answers describe live state: a cache must never replay them.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	// A failed write means the client went away; there is no one to tell.
	_, _ = w.Write(append(body, '\n'))
}

// writeError answers an error with no particular field.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// writeRequestError answers a client mistake.
func writeRequestError(w http.ResponseWriter, err *requestError) {
	writeJSON(w, err.status, apiError{Error: err.msg, Field: err.field})
}

// decodeBody reads r's body as exactly one JSON object into v. Unknown
// fields are refused, so that a misspelt field is an error rather than a
// silently ignored setting, and so is anything after the object, which
// would otherwise hide a client that concatenated two requests.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) *requestError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case isTooLarge(err):
		return decodeError(err)
	default:
		return badRequest("", "unexpected data after the JSON object")
	}
}

// decodeRequest reads the JSON body of a request that takes no query
// parameters into v. When it cannot, it has answered the 4xx and returns
// false.
func decodeRequest(w http.ResponseWriter, r *http.Request, v any) bool {
	if _, rerr := query(r); rerr != nil {
		writeRequestError(w, rerr)
		return false
	}
	if rerr := decodeBody(w, r, v); rerr != nil {
		writeRequestError(w, rerr)
		return false
	}
	return true
}

// parseTime reads the RFC 3339 time s given for field.
func parseTime(field, s string) (time.Time, *requestError) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRequest(field, "%s: %q is not an RFC 3339 time", field, s)
	}
	return t, nil
}

// writeEngineError answers an error of the engine doing what: a
// key error is the caller's mistake (400, naming the field), anything
// else is ours (logged, 500).
func (a *api) writeEngineError(w http.ResponseWriter, err error, what string) {
	var fe *keyerr.Error
	if errors.As(err, &fe) {
		writeRequestError(w, fieldError("", fe))
		return
	}
	a.cfg.Logger.Error(what+" failed", "err", err)
	writeError(w, http.StatusInternalServerError, what+" failed: "+err.Error())
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// decodeError explains why a body did not decode, naming the field when
// the decoder knows it.
func decodeError(err error) *requestError {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case isTooLarge(err):
		return &requestError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body is larger than %d bytes", maxBody)}
	case errors.Is(err, io.EOF):
		return badRequest("", "empty request body: expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "request body ends in the middle of the JSON object")
	case errors.As(err, &syn):
		return badRequest("", "invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("", "the request body must be a JSON object, not %s", typ.Value)
		}
		return badRequest(typ.Field, "%s: expected %s, got %s", typ.Field, typ.Type, typ.Value)
	}
	// encoding/json has no error type for an unknown field, only this
	// message; take the name from it so the answer can point at it.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return badRequest(name, "unknown field %q", name)
	}
	return badRequest("", "invalid request body: %v", err)
}
