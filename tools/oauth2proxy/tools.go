//go:build tools

// Package tools records the oauth2-proxy release this module pins. Nothing
// here is compiled into anything: the blank import, behind the "tools" build
// tag, only keeps the requirement in go.mod through go mod tidy. The binary is
// built from the dependency itself:
//
//	go build -o ../../bin/oauth2-proxy github.com/oauth2-proxy/oauth2-proxy/v7
package tools

import _ "github.com/oauth2-proxy/oauth2-proxy/v7"
