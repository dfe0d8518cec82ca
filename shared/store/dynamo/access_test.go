package dynamo

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/store"
)

// callsOf reads this package's source and returns, for every function and
// method (methods of Store as "Store.Name"), the DynamoDB client methods
// it calls and the functions and Store methods it refers to.
func callsOf(t *testing.T) (client, refs map[string][]string) {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	funcs := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				funcs[declName(fd)] = true
			}
		}
	}
	client, refs = map[string][]string{}, map[string][]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			// The names that hold the *Store: the receiver, or a
			// parameter of a generic helper.
			name, stores := declName(fd), map[string]bool{}
			fields := fd.Type.Params.List
			if fd.Recv != nil {
				fields = append(fields, fd.Recv.List...)
			}
			for _, field := range fields {
				if star, ok := field.Type.(*ast.StarExpr); ok {
					if id, ok := star.X.(*ast.Ident); ok && id.Name == "Store" {
						for _, n := range field.Names {
							stores[n.Name] = true
						}
					}
				}
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.SelectorExpr:
					// store.client.Op
					if inner, ok := x.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "client" {
						if id, ok := inner.X.(*ast.Ident); ok && stores[id.Name] {
							client[name] = append(client[name], "dynamodb:"+x.Sel.Name)
						}
					}
					// store.method
					if id, ok := x.X.(*ast.Ident); ok && stores[id.Name] && funcs["Store."+x.Sel.Name] {
						refs[name] = append(refs[name], "Store."+x.Sel.Name)
					}
				case *ast.Ident:
					if funcs[x.Name] {
						refs[name] = append(refs[name], x.Name)
					}
				}
				return true
			})
		}
	}
	return client, refs
}

func declName(fd *ast.FuncDecl) string {
	if fd.Recv == nil {
		return fd.Name.Name
	}
	typ := fd.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	return typ.(*ast.Ident).Name + "." + fd.Name.Name
}

// The access table names every method of store.Store, and for each the
// DynamoDB actions its code can send: those it calls on the client, or
// through the functions and methods it calls, and no more.
func TestMethodAccess_MatchesSource(t *testing.T) {
	client, refs := callsOf(t)
	iface := reflect.TypeFor[store.Store]()
	var methods []string
	for i := range iface.NumMethod() {
		methods = append(methods, iface.Method(i).Name)
	}
	if diff := cmp.Diff(methods, AccessMethods()); diff != "" {
		t.Errorf("the access table's methods differ from store.Store's (-store.Store +table):\n%s", diff)
	}
	for _, m := range methods {
		seen := map[string]bool{}
		var actions []string
		var walk func(string)
		walk = func(fn string) {
			if seen[fn] {
				return
			}
			seen[fn] = true
			actions = append(actions, client[fn]...)
			for _, r := range refs[fn] {
				walk(r)
			}
		}
		walk("Store." + m)
		slices.Sort(actions)
		actions = slices.Compact(actions)
		declared, _ := MethodAccess(m)
		if len(declared.IndexQueries) > 0 {
			declared.Actions = append(declared.Actions, query)
		}
		slices.Sort(declared.Actions)
		declared.Actions = slices.Compact(declared.Actions)
		if diff := cmp.Diff(declared.Actions, actions, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
			t.Errorf("%s: declared actions differ from the source's (-declared +source):\n%s", m, diff)
		}
	}
}
