# Gatehouse: the two commands a newcomer needs are `make run` and `make test`.
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test lint unit bench build clean

## run: start the whole system (open http://localhost:3000, sign in as alice@example.com / password)
run:
	$(GO) run ./cmd/gatehouse up --data-dir data

## test: format, vet and staticcheck, then every test with the race detector
test: lint bin/mongotest bin/oauth2-proxy unit

unit:
	$(GO) test -race -count=1 ./...
	cd tools/mongotest && $(GO) test -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd tools/mongotest && $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## bin/mongotest: the MongoDB-protocol test server (FerretDB), its own module
bin/mongotest: tools/mongotest/main.go tools/mongotest/go.mod tools/mongotest/go.sum
	cd tools/mongotest && $(GO) build -o ../../bin/mongotest .

## bin/oauth2-proxy: the real oauth2-proxy, an OIDC client of `gatehouse idp` in tests; its own module
bin/oauth2-proxy: tools/oauth2proxy/go.mod tools/oauth2proxy/go.sum
	cd tools/oauth2proxy && $(GO) build -o ../../bin/oauth2-proxy github.com/oauth2-proxy/oauth2-proxy/v7

## bench: the benchmarks recorded in docs/benchmarks.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

build:
	$(GO) build -o bin/gatehouse ./cmd/gatehouse

clean:
	rm -rf bin
