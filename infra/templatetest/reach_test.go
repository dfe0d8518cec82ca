package templatetest

import (
	"go/types"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
	"golang.org/x/tools/go/ssa/ssautil"
)

// What each program's code can reach, read from the source: which
// store.Store methods of the DynamoDB store, and whether it calls the
// Taskcluster queue. The IAM statements of template.yaml are derived from
// it (iam_test.go).
//
// The analysis builds SSA for the module's packages (their dependencies
// come from export data, without bodies) and walks, from every function of
// a program's main package, the calls it can make:
//
//   - a static call reaches its callee;
//   - a call through an interface reaches the method of that name on every
//     type of the program's own packages that implements the interface
//     (class hierarchy analysis within the module): so a call of
//     store.Store's GetHook reaches the DynamoDB store's GetHook, and only
//     that method;
//   - a function or method value taken in reachable code is reachable (it
//     may be called anywhere, by the Lambda runtime for instance, which
//     calls a function's handler by reflection);
//   - a value converted to an interface makes reachable those of its
//     methods that some interface of a dependency declares (io.Closer's
//     Close, http.Handler's ServeHTTP), which code without bodies here may
//     call.
//
// Unlike rta, it does not assume that every exported method of every type
// converted to an interface may be called by reflection: the store is
// converted to store.Store in every program, and that assumption would
// grant every function every method.

// modulePath is the module the analysis reads with bodies.
const modulePath = "github.com/hookline/hookline"

// programs are the entry points whose permissions the template grants:
// the four functions (by logical id) and the bridge (BridgePolicy).
var programs = map[string]string{
	"ApiFunction":       "./functions/api",
	"WebhookFunction":   "./functions/webhook",
	"SchedulerFunction": "./functions/scheduler",
	"TriggerFunction":   "./functions/trigger",
	"BridgePolicy":      "./cmd/bridge",
}

// reach is what one program's code can reach.
type reach struct {
	// StoreMethods are the methods of dynamo.Store it can call, sorted.
	StoreMethods []string
	// Calls is every function it can reach, by ssa.Function.String.
	Calls map[string]bool
}

var (
	reachOnce sync.Once
	reachAll  map[string]reach
	reachErr  string
)

// reachability analyses every program once per test binary.
func reachability(t *testing.T) map[string]reach {
	t.Helper()
	reachOnce.Do(func() { reachAll, reachErr = analyse(repoRoot(t)) })
	if reachErr != "" {
		t.Fatal(reachErr)
	}
	return reachAll
}

func analyse(root string) (map[string]reach, string) {
	cfg := &packages.Config{
		Mode:       packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedImports | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedTypesSizes,
		Dir:        root,
		BuildFlags: []string{"-tags=lambda.norpc"}, // as the Makefile builds the functions
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, "load the module: " + err.Error()
	}
	var problems []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			problems = append(problems, e.Error())
		}
	})
	if len(problems) > 0 {
		return nil, "load the module: " + strings.Join(problems, "; ")
	}
	prog, ssaPkgs := ssautil.Packages(pkgs, ssa.InstantiateGenerics)
	prog.Build()

	byPath := map[string]*packages.Package{}
	ssaByPath := map[string]*ssa.Package{}
	for i, p := range pkgs {
		byPath[p.PkgPath] = p
		if ssaPkgs[i] != nil {
			ssaByPath[p.PkgPath] = ssaPkgs[i]
		}
	}
	external := externalMethodNames(pkgs)
	out := map[string]reach{}
	for name, dir := range programs {
		mainPath := modulePath + strings.TrimPrefix(dir, ".")
		main := ssaByPath[mainPath]
		if main == nil {
			return nil, "no package " + mainPath
		}
		w := newWalker(prog, linkedPackages(byPath, mainPath, ssaByPath), external)
		for _, m := range main.Members {
			switch m := m.(type) {
			case *ssa.Function:
				w.add(m)
			case *ssa.Type:
				for _, T := range []types.Type{m.Type(), types.NewPointer(m.Type())} {
					for sel := range prog.MethodSets.MethodSet(T).Methods() {
						w.add(prog.MethodValue(sel))
					}
				}
			}
		}
		w.run()
		r := reach{Calls: map[string]bool{}}
		for fn := range w.seen {
			r.Calls[fn.String()] = true
			if isStoreMethod(fn) {
				r.StoreMethods = append(r.StoreMethods, fn.Name())
			}
		}
		slices.Sort(r.StoreMethods)
		out[name] = r
	}
	return out, ""
}

// linkedPackages are the module's packages a program links: its main
// package and what it imports, transitively.
func linkedPackages(byPath map[string]*packages.Package, mainPath string, ssaByPath map[string]*ssa.Package) []*ssa.Package {
	seen := map[string]bool{}
	var out []*ssa.Package
	var visit func(path string)
	visit = func(path string) {
		p, ok := byPath[path]
		if !ok || seen[path] {
			return
		}
		seen[path] = true
		if sp := ssaByPath[path]; sp != nil {
			out = append(out, sp)
		}
		for imp := range p.Imports {
			visit(imp)
		}
	}
	visit(mainPath)
	return out
}

// externalMethodNames are the method names of the named interfaces of
// every dependency outside the module.
func externalMethodNames(pkgs []*packages.Package) map[string]bool {
	names := map[string]bool{}
	seen := map[*types.Package]bool{}
	var visit func(p *types.Package)
	visit = func(p *types.Package) {
		if seen[p] {
			return
		}
		seen[p] = true
		if !strings.HasPrefix(p.Path(), modulePath) {
			scope := p.Scope()
			for _, n := range scope.Names() {
				tn, ok := scope.Lookup(n).(*types.TypeName)
				if !ok {
					continue
				}
				if iface, ok := tn.Type().Underlying().(*types.Interface); ok {
					for i := range iface.NumMethods() {
						names[iface.Method(i).Name()] = true
					}
				}
			}
		}
		for _, imp := range p.Imports() {
			visit(imp)
		}
	}
	for _, p := range pkgs {
		if p.Types != nil {
			visit(p.Types)
		}
	}
	return names
}

// isStoreMethod reports whether fn is an exported method of *dynamo.Store.
func isStoreMethod(fn *ssa.Function) bool {
	recv := fn.Signature.Recv()
	if recv == nil || fn.Object() == nil || !fn.Object().Exported() || fn.Synthetic != "" {
		return false
	}
	ptr, ok := recv.Type().(*types.Pointer)
	if !ok {
		return false
	}
	named, ok := ptr.Elem().(*types.Named)
	return ok && named.Obj().Name() == "Store" && named.Obj().Pkg().Path() == modulePath+"/shared/store/dynamo"
}

// walker is the worklist of the analysis over one program.
type walker struct {
	prog     *ssa.Program
	types    []types.Type // the concrete types of the program's own packages, T and *T
	external map[string]bool
	seen     map[*ssa.Function]bool
	work     []*ssa.Function
	impls    map[string][]*ssa.Function // interface method -> implementations
}

func newWalker(prog *ssa.Program, linked []*ssa.Package, external map[string]bool) *walker {
	w := &walker{prog: prog, external: external, seen: map[*ssa.Function]bool{}, impls: map[string][]*ssa.Function{}}
	for _, p := range linked {
		for _, m := range p.Members {
			if t, ok := m.(*ssa.Type); ok {
				if _, isIface := t.Type().Underlying().(*types.Interface); !isIface {
					w.types = append(w.types, t.Type(), types.NewPointer(t.Type()))
				}
			}
		}
	}
	return w
}

func (w *walker) add(fn *ssa.Function) {
	if fn != nil && !w.seen[fn] {
		w.seen[fn] = true
		w.work = append(w.work, fn)
	}
}

func (w *walker) run() {
	for len(w.work) > 0 {
		fn := w.work[len(w.work)-1]
		w.work = w.work[:len(w.work)-1]
		for _, anon := range fn.AnonFuncs {
			w.add(anon)
		}
		var operands []*ssa.Value
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				switch x := instr.(type) {
				case ssa.CallInstruction:
					common := x.Common()
					if common.IsInvoke() {
						w.invoke(common)
					}
				case *ssa.MakeInterface:
					w.convert(x.X.Type())
				}
				for _, op := range instr.Operands(operands[:0]) {
					if f, ok := (*op).(*ssa.Function); ok {
						w.add(f)
					}
				}
			}
		}
	}
}

// invoke adds the implementations, in the program's own types, of an
// interface method called.
func (w *walker) invoke(c *ssa.CallCommon) {
	iface, ok := c.Value.Type().Underlying().(*types.Interface)
	if !ok {
		return
	}
	key := c.Value.Type().String() + "." + c.Method.Name()
	impls, done := w.impls[key]
	if !done {
		for _, T := range w.types {
			if !types.Implements(T, iface) {
				continue
			}
			if sel := w.prog.MethodSets.MethodSet(T).Lookup(c.Method.Pkg(), c.Method.Name()); sel != nil {
				impls = append(impls, w.prog.MethodValue(sel))
			}
		}
		w.impls[key] = impls
	}
	for _, f := range impls {
		w.add(f)
	}
}

// convert adds the methods of a type converted to an interface that code
// outside the module may call through an interface of its own.
func (w *walker) convert(T types.Type) {
	for sel := range w.prog.MethodSets.MethodSet(T).Methods() {
		if w.external[sel.Obj().Name()] {
			w.add(w.prog.MethodValue(sel))
		}
	}
}

// The analysis tells programs apart: each reaches what its entry point
// does, and not what only another's does. (If it found everything, or
// nothing, the derived grants would be meaningless.)
func TestReachability_StoreMethods(t *testing.T) {
	r := reachability(t)
	for _, tt := range []struct {
		program      string
		reaches, not []string
	}{
		{"ApiFunction", []string{"CreateHook", "DeleteHook", "PutSettings", "ListDecisions", "PutDecision"}, []string{"ListDue"}},
		{"WebhookFunction", []string{"GetHook", "GetSettings", "CreateClaim", "PutDecision"}, []string{"CreateHook", "UpdateHook", "DeleteHook", "ListHooks", "ListDue", "PutSettings"}},
		{"SchedulerFunction", []string{"ListDue", "UpdateHook", "CreateClaim"}, []string{"CreateHook", "DeleteHook", "ListHookGroups"}},
		{"TriggerFunction", []string{"GetHook", "CreateClaim", "PutDecision"}, []string{"CreateHook", "UpdateHook", "ListDue"}},
		{"BridgePolicy", []string{"ListHookGroups", "ListHooks", "PutDecision"}, []string{"CreateHook", "CreateClaim", "ListDue"}},
	} {
		got := r[tt.program].StoreMethods
		for _, m := range tt.reaches {
			if !slices.Contains(got, m) {
				t.Errorf("%s does not reach %s: %v", tt.program, m, got)
			}
		}
		for _, m := range tt.not {
			if slices.Contains(got, m) {
				t.Errorf("%s reaches %s: %v", tt.program, m, got)
			}
		}
	}
}
