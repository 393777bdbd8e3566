package gateway

import (
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon"
)

// Text the API takes is checked once, here: a NUL byte or invalid UTF-8 in
// a JSON body, a path parameter or a query parameter is refused with a 400
// before any handler sees it, so that nothing reaches Postgres (which
// refuses both) and nothing changes.

// badText says what is wrong with s as text, or "" when nothing is.
func badText(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "a NUL byte"
	case !utf8.ValidString(s):
		return "invalid UTF-8"
	}
	return ""
}

// refusedText is the one sentence every refusal says.
func refusedText(where, what string) error {
	return klaxon.Errorf(klaxon.EInvalid, "The %s contains %s; send UTF-8 text without NUL bytes.", where, what)
}

// checkText walks a decoded value and refuses the first string (a field,
// a list element, a map key or value) that is not clean text.
func checkText(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return badText(v.String())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return checkText(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				if bad := checkText(v.Field(i)); bad != "" {
					return bad
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return "" // []byte is data, not text
		}
		for i := 0; i < v.Len(); i++ {
			if bad := checkText(v.Index(i)); bad != "" {
				return bad
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if bad := checkText(it.Key()); bad != "" {
				return bad
			}
			if bad := checkText(it.Value()); bad != "" {
				return bad
			}
		}
	}
	return ""
}

// cleanParams refuses a request whose path or query parameters are not
// clean text. It runs on the router, after the route matched.
func cleanParams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, v := range mux.Vars(r) {
			if bad := badText(v); bad != "" {
				writeJSON(w, http.StatusBadRequest, errorBody{Error: klaxon.ErrorMessageOf(refusedText("path", bad))})
				return
			}
		}
		for k, vs := range r.URL.Query() {
			for _, v := range append(vs, k) {
				if bad := badText(v); bad != "" {
					writeJSON(w, http.StatusBadRequest, errorBody{Error: klaxon.ErrorMessageOf(refusedText("query", bad))})
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
