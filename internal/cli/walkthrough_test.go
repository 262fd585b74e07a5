package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"gatehouse/internal/testenv"
)

// walkThrough is the tutorial's Swagger walk-through against a running
// `gatehouse api`: create, list, update, complete, incomplete, delete, 404.
func walkThrough(t *testing.T, base string) {
	t.Helper()
	call := func(method, path, body string, hdr ...string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		return res.StatusCode, res.Header, m
	}
	code, _, created := call("POST", "/", `{"title":"walk","description":"through"}`)
	if code != 201 {
		t.Fatalf("create = %d %v", code, created)
	}
	id, _ := created["id"].(string)
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if len(list) != 1 || list[0]["id"] != id {
		t.Fatalf("list = %v, want the created todo", list)
	}
	code, hdr, _ := call("GET", "/"+id, "")
	if code != 200 {
		t.Fatalf("get = %d", code)
	}
	if code, _, got := call("PUT", "/"+id, `{"title":"walked"}`, "If-Match", hdr.Get("ETag")); code != 200 || got["title"] != "walked" {
		t.Fatalf("update = %d %v", code, got)
	}
	if code, _, _ := call("PUT", "/"+id, `{"title":"stale"}`, "If-Match", hdr.Get("ETag")); code != 412 {
		t.Fatalf("stale update = %d, want 412", code)
	}
	if code, _, got := call("POST", "/"+id+"/complete", ""); code != 200 || got["completed"] != true {
		t.Fatalf("complete = %d %v", code, got)
	}
	if code, _, got := call("POST", "/"+id+"/incomplete", ""); code != 200 || got["completed"] != false {
		t.Fatalf("incomplete = %d %v", code, got)
	}
	if code, _, _ := call("DELETE", "/"+id, ""); code != 204 {
		t.Fatalf("delete = %d", code)
	}
	if code, _, p := call("GET", "/"+id, ""); code != 404 || p["request_id"] == nil {
		t.Fatalf("get after delete = %d %v, want a 404 problem", code, p)
	}
	if code, _, h := call("GET", "/headers", ""); code != 200 || h["host"] == nil {
		t.Fatalf("headers = %d %v", code, h)
	}
}

func TestAPIWalkThroughSQLite(t *testing.T) {
	a := start(t, nil, "api listening", "api", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json")
	defer a.stop()
	walkThrough(t, "http://"+a.addr)
}

func TestAPIWalkThroughMongoDB(t *testing.T) {
	uri := testenv.MongoURI(t)
	env := map[string]string{"ATLAS_URI": uri, "DB_NAME": testenv.DBName(t)} // the tutorial's variables
	a := start(t, env, "api listening", "api", "--addr", "127.0.0.1:0", "--log-format", "json")
	defer a.stop()
	if !strings.Contains(a.stderr.String(), "MongoDB") {
		t.Fatalf("store is not MongoDB; log:\n%s", a.stderr)
	}
	walkThrough(t, "http://"+a.addr)
}
