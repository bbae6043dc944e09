package prom

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Auth is how the source proves itself to a Prometheus behind
// authentication (a proxy, or Prometheus's own --web.config.file): a
// bearer token or basic auth, and for HTTPS a CA to trust and a client
// certificate. Secrets are files, read again for every round, so that
// they are rotated without a reload and never sit in the policy.
type Auth struct {
	// BearerTokenFile holds the token sent as Authorization: Bearer.
	BearerTokenFile string `toml:"bearer_token_file"`
	// BasicAuthUser and BasicAuthPasswordFile are sent as basic auth.
	BasicAuthUser         string `toml:"basic_auth_user"`
	BasicAuthPasswordFile string `toml:"basic_auth_password_file"`
	// CAFile holds the PEM certificates that the server's must chain to
	// (the system's roots when empty).
	CAFile string `toml:"ca_file"`
	// CertFile and KeyFile are the client certificate for mutual TLS.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// maxSecret bounds what is read from a secret's file.
const maxSecret = 64 << 10

// readSecret reads a token or password file: its content without the
// surrounding white space, which must not be empty.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecret+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxSecret {
		return "", fmt.Errorf("%s is larger than %d bytes: not a secret", path, maxSecret)
	}
	s := string(bytes.TrimSpace(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// validate reports every problem of the auth keys, reading the files they
// name: an unreadable one is an error at load, not at the first round.
func (a Auth) validate(url string) []error {
	var errs []error
	bad := func(key string, related []string, format string, args ...any) {
		errs = append(errs, &keyerr.Error{Key: key, Related: related, Msg: fmt.Sprintf(format, args...)})
	}
	if a.BearerTokenFile != "" && (a.BasicAuthUser != "" || a.BasicAuthPasswordFile != "") {
		bad("bearer_token_file", []string{"basic_auth_user"}, "give a bearer token or basic auth, not both")
	}
	if (a.BasicAuthUser == "") != (a.BasicAuthPasswordFile == "") {
		bad("basic_auth_user", []string{"basic_auth_password_file"}, "basic_auth_user and basic_auth_password_file go together")
	}
	for key, path := range map[string]string{"bearer_token_file": a.BearerTokenFile, "basic_auth_password_file": a.BasicAuthPasswordFile} {
		if path != "" {
			if _, err := readSecret(path); err != nil {
				bad(key, nil, "%v", err)
			}
		}
	}
	https := strings.HasPrefix(url, "https://")
	if a.CAFile != "" {
		if !https {
			bad("ca_file", []string{"url"}, "needs an https url")
		} else if _, err := loadCA(a.CAFile); err != nil {
			bad("ca_file", nil, "%v", err)
		}
	}
	switch {
	case (a.CertFile == "") != (a.KeyFile == ""):
		bad("cert_file", []string{"key_file"}, "cert_file and key_file go together (the client certificate for mutual TLS)")
	case a.CertFile != "" && !https:
		bad("cert_file", []string{"url"}, "needs an https url")
	case a.CertFile != "":
		if _, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile); err != nil {
			if strings.Contains(err.Error(), "does not match") {
				bad("key_file", nil, "%s does not match the certificate in %s", a.KeyFile, a.CertFile)
			} else {
				bad("cert_file", []string{"key_file"}, "%v", err)
			}
		}
	}
	return errs
}

func loadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// transport is the HTTP client's round tripper for these settings: TLS
// from the files as they are at start, credentials read per request.
func (a Auth) transport() (http.RoundTripper, error) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	if a.CAFile != "" || a.CertFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if a.CAFile != "" {
			pool, err := loadCA(a.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ca_file: %w", err)
			}
			tc.RootCAs = pool
		}
		if a.CertFile != "" {
			// Read at each handshake, so that a renewed client
			// certificate is used without a reload.
			certFile, keyFile := a.CertFile, a.KeyFile
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				c, err := tls.LoadX509KeyPair(certFile, keyFile)
				if err != nil {
					return nil, fmt.Errorf("prometheus client certificate: %w", err)
				}
				return &c, nil
			}
		}
		base.TLSClientConfig = tc
	}
	if a.BearerTokenFile == "" && a.BasicAuthUser == "" {
		return base, nil
	}
	return &authTransport{auth: a, next: base}, nil
}

// authTransport adds the credentials to each request.
type authTransport struct {
	auth Auth
	next http.RoundTripper
}

func (t *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	switch {
	case t.auth.BearerTokenFile != "":
		tok, err := readSecret(t.auth.BearerTokenFile)
		if err != nil {
			return nil, errors.New("prometheus bearer_token_file: " + err.Error())
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	case t.auth.BasicAuthUser != "":
		pw, err := readSecret(t.auth.BasicAuthPasswordFile)
		if err != nil {
			return nil, errors.New("prometheus basic_auth_password_file: " + err.Error())
		}
		r.SetBasicAuth(t.auth.BasicAuthUser, pw)
	}
	return t.next.RoundTrip(r)
}
