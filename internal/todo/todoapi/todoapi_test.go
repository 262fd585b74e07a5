package todoapi_test

import (
	"encoding/json"
	"gatehouse/internal/testenv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/internal/httpserver"
	"gatehouse/internal/todo"
	"gatehouse/internal/todo/sqlitestore"
	"gatehouse/internal/todo/todoapi"
)

type env struct {
	srv   *httptest.Server
	store *sqlitestore.Store
	logs  *testenv.LogBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "todos.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := todoapi.New(todoapi.Config{Service: todo.NewService(store, nil), Store: store, Logger: logger})
	srv := httptest.NewServer(httpserver.Wrap(api, logger))
	t.Cleanup(srv.Close)
	return &env{srv: srv, store: store, logs: logs}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(t *testing.T, method, path, contentType, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

func (e *env) doJSON(t *testing.T, method, path, body string, hdr ...string) response {
	t.Helper()
	return e.do(t, method, path, "application/json", body, hdr...)
}

type todoJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Completed   bool   `json:"completed"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func TestWalkThrough(t *testing.T) {
	e := newEnv(t)
	res := e.doJSON(t, "POST", "/", `{"title":"Write the gateway","description":"oauth2-proxy compatible"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("POST / = %d %s, want 201", res.status, res.body)
	}
	created := decode[todoJSON](t, res)
	if got, want := res.header.Get("Location"), "/"+created.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if created.Title != "Write the gateway" || created.Completed || !strings.HasSuffix(created.CreatedAt, "Z") {
		t.Errorf("created = %+v", created)
	}

	list := decode[[]todoJSON](t, e.do(t, "GET", "/", "", ""))
	if len(list) != 1 || list[0].ID != created.ID {
		t.Fatalf("GET / = %+v, want the created todo", list)
	}

	res = e.do(t, "GET", "/"+created.ID, "", "")
	etag := res.header.Get("ETag")
	if res.status != 200 || etag != `"1"` {
		t.Fatalf("GET /id = %d, ETag %q; want 200 and \"1\"", res.status, etag)
	}

	res = e.doJSON(t, "PUT", "/"+created.ID, `{"title":"Write the gateway, well"}`, "If-Match", etag)
	if res.status != 200 || decode[todoJSON](t, res).Title != "Write the gateway, well" {
		t.Fatalf("PUT = %d %s", res.status, res.body)
	}
	// The old ETag no longer matches: a second tab cannot overwrite.
	res = e.doJSON(t, "PUT", "/"+created.ID, `{"title":"stale tab"}`, "If-Match", etag)
	checkProblem(t, e, res, http.StatusPreconditionFailed, "")
	if got := decode[todoJSON](t, e.do(t, "GET", "/"+created.ID, "", "")).Title; got != "Write the gateway, well" {
		t.Errorf("title after refused PUT = %q", got)
	}

	res = e.do(t, "POST", "/"+created.ID+"/complete", "", "")
	if res.status != 200 || !decode[todoJSON](t, res).Completed {
		t.Fatalf("complete = %d %s", res.status, res.body)
	}
	done := decode[[]todoJSON](t, e.do(t, "GET", "/?completed=true", "", ""))
	open := decode[[]todoJSON](t, e.do(t, "GET", "/?completed=false", "", ""))
	if len(done) != 1 || len(open) != 0 {
		t.Errorf("completed filter: %d done, %d open; want 1, 0", len(done), len(open))
	}
	res = e.do(t, "POST", "/"+created.ID+"/incomplete", "", "")
	if res.status != 200 || decode[todoJSON](t, res).Completed {
		t.Fatalf("incomplete = %d %s", res.status, res.body)
	}
	if res := e.do(t, "DELETE", "/"+created.ID, "", ""); res.status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", res.status, res.body)
	}
	checkProblem(t, e, e.do(t, "GET", "/"+created.ID, "", ""), http.StatusNotFound, "")
	checkProblem(t, e, e.do(t, "DELETE", "/"+created.ID, "", ""), http.StatusNotFound, "")
}

type problemJSON struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// checkProblem asserts an RFC 9457 answer whose request id is in the log,
// naming field when it is not "".
func checkProblem(t *testing.T, e *env, res response, status int, field string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d (%s), want %d", res.status, res.body, status)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	p := decode[problemJSON](t, res)
	if p.Status != status || p.Title == "" || p.RequestID == "" {
		t.Errorf("problem = %+v, want status %d, a title and a request id", p, status)
	}
	if p.RequestID != res.header.Get("X-Request-Id") {
		t.Errorf("problem request_id %q != X-Request-Id %q", p.RequestID, res.header.Get("X-Request-Id"))
	}
	if !strings.Contains(e.logs.String(), `"request_id":"`+p.RequestID+`"`) {
		t.Errorf("request id %q not in the log", p.RequestID)
	}
	if field != "" {
		found := false
		for _, f := range p.Errors {
			found = found || f.Field == field
		}
		if !found {
			t.Errorf("problem errors %+v do not name field %q", p.Errors, field)
		}
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	ok := e.doJSON(t, "POST", "/", `{"title":"keep me"}`)
	if ok.status != 201 {
		t.Fatalf("setup POST = %d", ok.status)
	}
	id := decode[todoJSON](t, ok).ID
	tests := []struct {
		name, method, path, ct, body string
		status                       int
		field                        string
	}{
		{"malformed JSON", "POST", "/", "application/json", `{"title":`, 400, ""},
		{"not an object", "POST", "/", "application/json", `["title"]`, 400, ""},
		{"trailing data", "POST", "/", "application/json", `{"title":"a"} {}`, 400, ""},
		{"empty body", "POST", "/", "application/json", ``, 400, ""},
		{"missing title", "POST", "/", "application/json", `{"description":"x"}`, 422, "title"},
		{"blank title", "POST", "/", "application/json", `{"title":"   "}`, 422, "title"},
		{"null title", "POST", "/", "application/json", `{"title":null}`, 422, "title"},
		{"title not a string", "POST", "/", "application/json", `{"title":5}`, 422, "title"},
		{"title too long", "POST", "/", "application/json", `{"title":"` + strings.Repeat("a", 201) + `"}`, 422, "title"},
		{"description too long", "POST", "/", "application/json", `{"title":"a","description":"` + strings.Repeat("d", 2001) + `"}`, 422, "description"},
		{"control character", "POST", "/", "application/json", `{"title":"a\u0000b"}`, 422, "title"},
		{"unknown field", "POST", "/", "application/json", `{"title":"a","owner":"bob"}`, 422, "owner"},
		{"case variant field", "POST", "/", "application/json", `{"TITLE":"a"}`, 422, "TITLE"},
		{"body over 1 MiB", "POST", "/", "application/json", `{"title":"a","description":"` + strings.Repeat("x", 1<<20) + `"}`, 413, ""},
		{"no content type", "POST", "/", "", `{"title":"a"}`, 415, ""},
		{"form content type", "POST", "/", "application/x-www-form-urlencoded", `title=a`, 415, ""},
		{"latin1 charset", "POST", "/", "application/json; charset=latin1", `{"title":"a"}`, 415, ""},
		{"unknown id", "GET", "/" + todo.NewID(), "", "", 404, ""},
		{"malformed id", "GET", "/not-an-id", "", "", 404, ""},
		{"PUT unknown id", "PUT", "/" + todo.NewID(), "application/json", `{"title":"a"}`, 404, ""},
		{"PUT invalid", "PUT", "/" + id, "application/json", `{"title":""}`, 422, "title"},
		{"complete unknown id", "POST", "/" + todo.NewID() + "/complete", "", "", 404, ""},
		{"bad limit", "GET", "/?limit=0", "", "", 400, ""},
		{"limit over max", "GET", "/?limit=1001", "", "", 400, ""},
		{"bad completed", "GET", "/?completed=yes", "", "", 400, ""},
		{"forged cursor", "GET", "/?cursor=Zm9vLmJhcg", "", "", 400, ""},
		{"unknown path", "GET", "/a/b/c", "", "", 404, ""},
		{"wrong method", "PATCH", "/", "application/json", `{}`, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblem(t, e, e.do(t, tt.method, tt.path, tt.ct, tt.body), tt.status, tt.field)
		})
	}
	// Nothing above changed anything.
	list := decode[[]todoJSON](t, e.do(t, "GET", "/", "", ""))
	if len(list) != 1 || list[0].Title != "keep me" {
		t.Errorf("after bad input the list is %+v, want only the setup todo", list)
	}
}

func TestCharactersNotBytes(t *testing.T) {
	e := newEnv(t)
	title := strings.Repeat("界", 200) // 600 bytes, 200 characters
	res := e.doJSON(t, "POST", "/", `{"title":"`+title+`","description":"`+strings.Repeat("é", 2000)+`"}`)
	if res.status != 201 {
		t.Fatalf("200-character CJK title: %d %s, want 201", res.status, res.body)
	}
	if got := decode[todoJSON](t, res).Title; got != title {
		t.Errorf("title round trip lost characters")
	}
}

func TestMethodNotAllowedHasAllow(t *testing.T) {
	e := newEnv(t)
	res := e.do(t, "PATCH", "/"+todo.NewID(), "", "")
	checkProblem(t, e, res, http.StatusMethodNotAllowed, "")
	if allow := res.header.Get("Allow"); !strings.Contains(allow, "PUT") {
		t.Errorf("Allow = %q, want it to list PUT", allow)
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		if res := e.doJSON(t, "POST", "/", `{"title":"t`+string(rune('0'+i))+`"}`); res.status != 201 {
			t.Fatal(res.status)
		}
	}
	var titles []string
	path := "/?limit=2"
	for range 10 {
		res := e.do(t, "GET", path, "", "")
		for _, td := range decode[[]todoJSON](t, res) {
			titles = append(titles, td.Title)
		}
		link := res.header.Get("Link")
		if link == "" {
			break
		}
		if !strings.HasPrefix(link, "</?") || !strings.HasSuffix(link, `>; rel="next"`) {
			t.Fatalf("Link = %q", link)
		}
		path = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	}
	if got := strings.Join(titles, ","); got != "t4,t3,t2,t1,t0" {
		t.Errorf("paged titles = %s, want newest first t4..t0", got)
	}
}

func TestHeadersEcho(t *testing.T) {
	e := newEnv(t)
	res := e.do(t, "GET", "/headers", "", "", "X-Custom-Thing", "yes")
	h := decode[map[string]string](t, res)
	if h["host"] != strings.TrimPrefix(e.srv.URL, "http://") {
		t.Errorf("host = %q, want %q", h["host"], e.srv.URL)
	}
	if h["x-custom-thing"] != "yes" {
		t.Errorf("headers = %v, want x-custom-thing", h)
	}
}

func TestStoreFailureIs503(t *testing.T) {
	e := newEnv(t)
	e.store.Close()
	checkProblem(t, e, e.doJSON(t, "POST", "/", `{"title":"lost?"}`), http.StatusServiceUnavailable, "")
	checkProblem(t, e, e.do(t, "GET", "/", "", ""), http.StatusServiceUnavailable, "")
	checkProblem(t, e, e.do(t, "GET", "/readyz", "", ""), http.StatusServiceUnavailable, "")
	if res := e.do(t, "GET", "/healthz", "", ""); res.status != 200 {
		t.Errorf("healthz with a dead store = %d, want 200 (the process is up)", res.status)
	}
}

func TestDocsServedFromBinary(t *testing.T) {
	e := newEnv(t)
	res := e.do(t, "GET", "/docs", "", "")
	if res.status != 200 || !strings.Contains(string(res.body), "swagger") {
		t.Fatalf("GET /docs = %d, body %.200s", res.status, res.body)
	}
	if strings.Contains(string(res.body), "cdn") || strings.Contains(string(res.body), "unpkg") {
		t.Errorf("/docs refers to a CDN")
	}
	res = e.do(t, "GET", "/openapi.json", "", "")
	var spec struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(res.body, &spec); err != nil || spec.OpenAPI != "3.1.0" {
		t.Errorf("openapi.json: %v, version %q", err, spec.OpenAPI)
	}
}
