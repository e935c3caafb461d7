import BLAS
import COFQLKernels
import Dispatch
import Randomness

/// The shape of a multilayer perceptron: Linear → [LayerNorm] → activation for every hidden
/// width, then a final Linear.
public struct MLPSpec: Codable, Sendable, Equatable {
    public var inputDim: Int
    public var hidden: [Int]
    public var outputDim: Int
    public var activation: Activation
    /// LayerNorm (ε = 1e-5, affine) between each hidden Linear and its activation.
    public var layerNorm: Bool

    public init(inputDim: Int, hidden: [Int], outputDim: Int, activation: Activation = .mish, layerNorm: Bool = false) {
        self.inputDim = inputDim; self.hidden = hidden; self.outputDim = outputDim
        self.activation = activation; self.layerNorm = layerNorm
    }
    /// [input, hidden…, output].
    public var dims: [Int] { [inputDim] + hidden + [outputDim] }
    /// Multiply–adds of one forward row.
    public var macsPerRow: Int { zip(dims.dropLast(), dims.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 } }
}

/// A row-major MLP with exact reverse-mode backward and forward-mode JVP, over preallocated
/// workspaces for up to `maxRows` rows.
///
/// **Fused JVP.** A forward call takes `rows` primal rows followed by `tangentRows` tangent rows
/// in one input matrix; tangent row i is the tangent of primal row i (i < tangentRows). Every
/// Linear runs one GEMM over all rows (bias added to primal rows only: the tangent of W·x + b is
/// W·ẋ); activations write f(h) on primal rows and f′(h_i)·ḣ on tangent rows; LayerNorm applies
/// its exact linearisation. So the primal and the JVP cost one pass with bigger GEMMs.
///
/// **Backward** runs over the first `rows` primal rows of the last forward with the same
/// parameters, overwriting this network's slice of the gradient buffer. The input passed to
/// `forward` must stay valid until `backward` (it is the first layer's weight-gradient operand).
///
/// Parameter tensors (registered under `prefix`): `layers.{i}.weight` [out × in] (PyTorch
/// layout), `layers.{i}.bias` [out], and with LayerNorm `norms.{i}.weight`, `norms.{i}.bias`.
public final class MLP<T: NetScalar> {
    public let spec: MLPSpec
    public let maxRows: Int
    let wOff: [Int], bOff: [Int], gOff: [Int], betaOff: [Int]
    let dims: [Int]
    /// Per hidden layer: pre-activation (after bias / LayerNorm), activation output, derivative.
    let pre: [UnsafeMutablePointer<T>], post: [UnsafeMutablePointer<T>], deriv: [UnsafeMutablePointer<T>]
    /// Per hidden layer with LayerNorm: normalised x̂ and 1/σ per row.
    let xhat: [UnsafeMutablePointer<T>], rstd: [UnsafeMutablePointer<T>]
    /// Network output, maxRows × outputDim (primal rows, then tangent rows).
    public let output: UnsafeMutablePointer<T>
    /// Gradient with respect to the input after `backward(inputGrad: true)`, rows × inputDim.
    public let dInput: UnsafeMutablePointer<T>
    let gradA: UnsafeMutablePointer<T>, gradB: UnsafeMutablePointer<T>
    /// Per hidden layer, rows × width multipliers for dropout (0 or 1/(1 − p)), drawn by the
    /// caller with ``drawDropoutMasks(rate:rows:rng:)`` and applied by `forward(dropout: true)`.
    let dropoutMask: [UnsafeMutablePointer<T>]
    private var allocations: [UnsafeMutablePointer<T>] = []
    private var lastInput: UnsafePointer<T>?
    private var lastRows = 0

    /// Registers the parameters under `prefix` in `layout` and allocates workspaces.
    public init(_ spec: MLPSpec, prefix: String, layout: inout ParameterLayout, maxRows: Int) {
        self.spec = spec
        self.maxRows = maxRows
        let dims = spec.dims
        self.dims = dims
        var w: [Int] = [], b: [Int] = [], g: [Int] = [], be: [Int] = []
        for l in 0..<(dims.count - 1) {
            w.append(layout.add("\(prefix).layers.\(l).weight", shape: [dims[l + 1], dims[l]]))
            b.append(layout.add("\(prefix).layers.\(l).bias", shape: [dims[l + 1]]))
            if spec.layerNorm && l < dims.count - 2 {
                g.append(layout.add("\(prefix).norms.\(l).weight", shape: [dims[l + 1]]))
                be.append(layout.add("\(prefix).norms.\(l).bias", shape: [dims[l + 1]]))
            }
        }
        wOff = w; bOff = b; gOff = g; betaOff = be
        var allocs: [UnsafeMutablePointer<T>] = []
        func alloc(_ n: Int) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, n))
            p.initialize(repeating: 0, count: Swift.max(1, n))
            allocs.append(p)
            return p
        }
        var pre: [UnsafeMutablePointer<T>] = [], post: [UnsafeMutablePointer<T>] = [], der: [UnsafeMutablePointer<T>] = []
        var xh: [UnsafeMutablePointer<T>] = [], rs: [UnsafeMutablePointer<T>] = []
        for h in spec.hidden {
            pre.append(alloc(maxRows * h)); post.append(alloc(maxRows * h)); der.append(alloc(maxRows * h))
            if spec.layerNorm { xh.append(alloc(maxRows * h)); rs.append(alloc(maxRows)) }
        }
        self.pre = pre; self.post = post; self.deriv = der; self.xhat = xh; self.rstd = rs
        dropoutMask = spec.hidden.map { alloc(maxRows * $0) }
        output = alloc(maxRows * spec.outputDim)
        dInput = alloc(maxRows * spec.inputDim)
        let widest = dims.max()!
        gradA = alloc(maxRows * widest); gradB = alloc(maxRows * widest)
        allocations = allocs
    }
    deinit { for p in allocations { p.deallocate() } }

    /// Initialises this network's parameters in `params` the PyTorch way (LayerNorm γ = 1, β = 0).
    public func initialize(_ params: UnsafeMutablePointer<T>, rng: inout Xoshiro) {
        for l in 0..<(dims.count - 1) {
            Initializers.torchLinear(weight: params + wOff[l], bias: params + bOff[l], fanIn: dims[l], fanOut: dims[l + 1], rng: &rng)
        }
        for l in 0..<gOff.count {
            (params + gOff[l]).update(repeating: 1, count: dims[l + 1])
            (params + betaOff[l]).update(repeating: 0, count: dims[l + 1])
        }
    }

    /// Forward pass (and JVP on the tangent rows). `input` is (rows + tangentRows) × inputDim.
    /// With `derivatives` false (inference, targets) activation derivatives are not stored, so
    /// neither `backward` nor tangent rows may be used.
    ///
    /// With `parallel` (the caller has set BLAS to one thread), the rows are split between two
    /// workers that each run every layer on their own rows (see ``forwardSplit``); each row's
    /// arithmetic is unchanged, so only the scheduling differs.
    ///
    /// With `dropout` (training only, no tangent rows) each hidden activation is multiplied by
    /// the masks of the last ``drawDropoutMasks(rate:rows:rng:)``; the mask is folded into the
    /// stored activation derivative, so `backward` differentiates through it unchanged.
    public func forward(_ params: UnsafePointer<T>, input: UnsafePointer<T>, rows: Int, tangentRows: Int = 0,
                        derivatives: Bool = true, parallel: Bool = false, dropout: Bool = false) {
        precondition(tangentRows <= rows && rows + tangentRows <= maxRows, "MLP rows \(rows)+\(tangentRows) exceed workspace \(maxRows)")
        precondition(derivatives || tangentRows == 0)
        precondition(!dropout || tangentRows == 0, "dropout has no tangent rows")
        let total = rows + tangentRows
        lastInput = input; lastRows = rows
        if parallel && !spec.layerNorm && total >= 16 && !dropout {
            forwardSplit(params, input: input, rows: rows, tangentRows: tangentRows, derivatives: derivatives)
            return
        }
        var x = input
        for l in 0..<(dims.count - 1) {
            let din = dims[l], dout = dims[l + 1]
            let isOut = l == dims.count - 2
            let h = isOut ? output : pre[l]
            T.gemm(.none, .transposed, m: total, n: dout, k: din, alpha: 1, a: x, lda: din,
                   b: params + wOff[l], ldb: din, beta: 0, c: h, ldc: dout)
            if isOut {
                Kernels.addBias(h, rows: rows, cols: dout, bias: params + bOff[l])
                break
            }
            let y = post[l]
            if spec.layerNorm {
                Kernels.addBias(h, rows: rows, cols: dout, bias: params + bOff[l])
                Kernels.layerNormForward(h, rows: rows, tangentRows: tangentRows, cols: dout,
                                         gamma: params + gOff[l], beta: params + betaOff[l], xhat: xhat[l], rstd: rstd[l])
                Kernels.activation(spec.activation, h, rows: rows, cols: dout, bias: nil, y: y,
                                   d: derivatives ? deriv[l] : nil)
            } else {
                Kernels.activation(spec.activation, h, rows: rows, cols: dout, bias: params + bOff[l], y: y,
                                   d: derivatives ? deriv[l] : nil)
            }
            if tangentRows > 0 {
                Kernels.multiply(deriv[l], h + rows * dout, into: y + rows * dout, count: tangentRows * dout)
            }
            if dropout {
                let m = dropoutMask[l]
                for i in 0..<(rows * dout) { y[i] *= m[i] }
                if derivatives { for i in 0..<(rows * dout) { deriv[l][i] *= m[i] } }
            }
            x = UnsafePointer(y)
        }
    }

    /// Draws inverted-dropout masks for `rows` rows: each unit kept with probability 1 − rate and
    /// then scaled by 1/(1 − rate) (Srivastava et al. 2014, JMLR 15), one uniform per unit.
    public func drawDropoutMasks(rate: Double, rows: Int, rng: inout Xoshiro) {
        precondition(rate >= 0 && rate < 1 && rows <= maxRows)
        let keep = T(1 / (1 - rate))
        for (l, h) in spec.hidden.enumerated() {
            let m = dropoutMask[l]
            for i in 0..<(rows * h) { m[i] = rng.uniform() < rate ? 0 : keep }
        }
    }

    /// Two-worker forward. Worker 0 takes primal rows [0, s) and the tangent rows of those rows,
    /// worker 1 the remaining primal rows and their tangent rows; s balances the row counts.
    /// A tangent row needs only its own primal row's activation derivative, so the workers
    /// never wait for each other.
    private func forwardSplit(_ params: UnsafePointer<T>, input: UnsafePointer<T>, rows: Int, tangentRows: Int,
                              derivatives: Bool) {
        let P = rows, Tn = tangentRows
        let half = (P + Tn) / 2
        let split = Swift.min(P, half / 2 <= Tn ? half / 2 : half - Tn)
        let dims = self.dims, wOff = self.wOff, bOff = self.bOff
        let pre = self.pre, post = self.post, deriv = self.deriv, output = self.output, act = spec.activation
        Workers.pair(true) { w in
            // (first row, row count) of this worker's primal and tangent blocks.
            let p0 = w == 0 ? 0 : split, pn = w == 0 ? split : P - split
            let t0 = w == 0 ? 0 : Swift.min(Tn, split), tn = w == 0 ? Swift.min(Tn, split) : Tn - Swift.min(Tn, split)
            var x = input
            for l in 0..<(dims.count - 1) {
                let din = dims[l], dout = dims[l + 1]
                let isOut = l == dims.count - 2
                let h = isOut ? output : pre[l]
                for block in 0..<2 {
                    let r0 = block == 0 ? p0 : P + t0, n = block == 0 ? pn : tn
                    if n == 0 { continue }
                    T.gemm(.none, .transposed, m: n, n: dout, k: din, alpha: 1, a: x + r0 * din, lda: din,
                           b: params + wOff[l], ldb: din, beta: 0, c: h + r0 * dout, ldc: dout)
                }
                if isOut {
                    if pn > 0 { Kernels.addBias(h + p0 * dout, rows: pn, cols: dout, bias: params + bOff[l]) }
                    break
                }
                let y = post[l]
                if pn > 0 {
                    Kernels.activation(act, h + p0 * dout, rows: pn, cols: dout, bias: params + bOff[l], y: y + p0 * dout,
                                       d: derivatives ? deriv[l] + p0 * dout : nil)
                }
                if tn > 0 {
                    Kernels.multiply(deriv[l] + t0 * dout, h + (P + t0) * dout, into: y + (P + t0) * dout, count: tn * dout)
                }
                x = UnsafePointer(y)
            }
        }
    }

    /// Backward over the first `rows` primal rows of the last forward: given ∂L/∂output
    /// (rows × outputDim), writes parameter gradients into `grads` (same offsets as the
    /// parameters; nil skips the weight-gradient GEMMs) and, when `inputGrad`, ∂L/∂input
    /// into `dInput`.
    ///
    /// With `parallel` (BLAS set to one thread by the caller) each layer is one two-worker step:
    /// the weight gradient and bias sums are split by output unit, the input gradient (and the
    /// next layer's activation-derivative product) by row. Each value's arithmetic is unchanged.
    public func backward(_ params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>?, rows: Int,
                         dOutput: UnsafePointer<T>, inputGrad: Bool, parallel: Bool = false) {
        precondition(rows <= lastRows, "backward over \(rows) rows after a forward of \(lastRows)")
        guard let input = lastInput else { preconditionFailure("backward before forward") }
        if parallel && !spec.layerNorm && rows >= 16 {
            backwardSplit(params, grads: grads, rows: rows, dOutput: dOutput, inputGrad: inputGrad, input: input)
            return
        }
        var dy = dOutput
        var bufToggle = false
        for l in stride(from: dims.count - 2, through: 0, by: -1) {
            let din = dims[l], dout = dims[l + 1]
            let isOut = l == dims.count - 2
            let dh: UnsafeMutablePointer<T>
            if isOut {
                dh = UnsafeMutablePointer(mutating: dy)
            } else {
                dh = UnsafeMutablePointer(mutating: dy)   // dy lives in our own gradA/gradB here
                Kernels.multiplyInPlace(dh, deriv[l], count: rows * dout)
                if spec.layerNorm {
                    Kernels.layerNormBackward(dh, rows: rows, cols: dout, gamma: params + gOff[l], xhat: xhat[l], rstd: rstd[l],
                                              dGamma: grads.map { $0 + gOff[l] }, dBeta: grads.map { $0 + betaOff[l] })
                }
            }
            let x = l == 0 ? input : UnsafePointer(post[l - 1])
            if let g = grads {
                T.gemm(.transposed, .none, m: dout, n: din, k: rows, alpha: 1, a: dh, lda: dout, b: x, ldb: din,
                       beta: 0, c: g + wOff[l], ldc: din)
                Kernels.columnSums(dh, rows: rows, cols: dout, into: g + bOff[l])
            }
            if l == 0 && !inputGrad { break }
            let dx = l == 0 ? dInput : (bufToggle ? gradB : gradA)
            bufToggle.toggle()
            T.gemm(.none, .none, m: rows, n: din, k: dout, alpha: 1, a: dh, lda: dout, b: params + wOff[l], ldb: din,
                   beta: 0, c: dx, ldc: din)
            dy = UnsafePointer(dx)
        }
    }

    private func backwardSplit(_ params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>?, rows: Int,
                               dOutput: UnsafePointer<T>, inputGrad: Bool, input: UnsafePointer<T>) {
        let dims = self.dims, wOff = self.wOff, bOff = self.bOff, post = self.post, deriv = self.deriv
        let dInput = self.dInput
        let r0 = rows / 2
        var dh = UnsafeMutablePointer(mutating: dOutput)   // ∂L/∂(pre-activation) of layer l
        var bufToggle = false
        for l in stride(from: dims.count - 2, through: 0, by: -1) {
            let din = dims[l], dout = dims[l + 1]
            let x = l == 0 ? input : UnsafePointer(post[l - 1])
            let wantsDx = !(l == 0 && !inputGrad)
            let dx = l == 0 ? dInput : (bufToggle ? gradB : gradA)
            bufToggle.toggle()
            let dhl = dh
            Workers.pair(true) { w in
                if let g = grads {
                    let c0 = w == 0 ? 0 : dout / 2, cn = w == 0 ? dout / 2 : dout - dout / 2
                    if cn > 0 {
                        T.gemm(.transposed, .none, m: cn, n: din, k: rows, alpha: 1, a: dhl + c0, lda: dout, b: x, ldb: din,
                               beta: 0, c: g + wOff[l] + c0 * din, ldc: din)
                        Kernels.columnSums(dhl + c0, rows: rows, cols: cn, ld: dout, into: g + bOff[l] + c0)
                    }
                }
                guard wantsDx else { return }
                let rs = w == 0 ? 0 : r0, rn = w == 0 ? r0 : rows - r0
                guard rn > 0 else { return }
                T.gemm(.none, .none, m: rn, n: din, k: dout, alpha: 1, a: dhl + rs * dout, lda: dout, b: params + wOff[l], ldb: din,
                       beta: 0, c: dx + rs * din, ldc: din)
                if l > 0 { Kernels.multiplyInPlace(dx + rs * din, deriv[l - 1] + rs * din, count: rn * din) }
            }
            if !wantsDx { break }
            dh = dx
        }
    }

    /// Forward for a single row without BLAS-3 (inference at batch 1): gemv per layer.
    public func forwardRow(_ params: UnsafePointer<T>, input: UnsafePointer<T>) {
        var x = input
        for l in 0..<(dims.count - 1) {
            let din = dims[l], dout = dims[l + 1]
            let isOut = l == dims.count - 2
            let h = isOut ? output : pre[l]
            h.update(from: params + bOff[l], count: dout)
            T.gemv(.none, m: dout, n: din, alpha: 1, a: params + wOff[l], lda: din, x: x, incx: 1, beta: 1, y: h, incy: 1)
            if isOut { break }
            if spec.layerNorm {
                Kernels.layerNormForward(h, rows: 1, tangentRows: 0, cols: dout, gamma: params + gOff[l],
                                         beta: params + betaOff[l], xhat: xhat[l], rstd: rstd[l])
            }
            Kernels.activation(spec.activation, h, rows: 1, cols: dout, bias: nil, y: post[l], d: nil)
            x = UnsafePointer(post[l])
        }
    }
}

/// An ``MLP``'s weights packed once for small-batch inference (``MLP/forwardPacked(_:input:rows:)``):
/// panels of 16 output units (``ofk_pack_panels``) with the biases, copied out of a parameter
/// buffer, so later changes to that buffer do not reach them (pack again after an update).
public final class PackedWeights {
    let panels: [UnsafeMutablePointer<Float>]
    let biases: [UnsafeMutablePointer<Float>]

    /// Input columns of the first layer (the network's input width unless a constant tail was
    /// folded into the first bias).
    let inputWidth: Int

    /// With `constantTail`, the last `constantTail.count` input columns are fixed at those
    /// values: W₀'s tail columns times them are added to the first bias once, and the packed
    /// first layer reads only the leading columns (OFQL's one-step sampling at r = 0, t = 1:
    /// its time embeddings are constants, arXiv 2508.13904 eq. 8).
    init<T: NetScalar>(_ mlp: MLP<T>, params: UnsafePointer<Float>, constantTail: [Float] = []) {
        precondition(T.self == Float.self, "packed inference is Float only")
        precondition(!mlp.spec.layerNorm, "packed inference has no LayerNorm path")
        precondition(constantTail.count < mlp.dims[0], "the constant tail must leave input columns")
        var p: [UnsafeMutablePointer<Float>] = [], b: [UnsafeMutablePointer<Float>] = []
        inputWidth = mlp.dims[0] - constantTail.count
        for l in 0..<(mlp.dims.count - 1) {
            let din = mlp.dims[l], dout = mlp.dims[l + 1]
            let w = params + mlp.wOff[l]
            let bias = UnsafeMutablePointer<Float>.allocate(capacity: dout)
            bias.update(from: params + mlp.bOff[l], count: dout)
            let k = l == 0 ? inputWidth : din
            let panel = UnsafeMutablePointer<Float>.allocate(capacity: ofk_packed_size(dout, k))
            if l == 0 && !constantTail.isEmpty {
                // Fold the tail (in Double) and pack the leading columns.
                let lead = UnsafeMutablePointer<Float>.allocate(capacity: dout * k)
                for o in 0..<dout {
                    var acc = Double(bias[o])
                    for (j, v) in constantTail.enumerated() { acc += Double(w[o * din + k + j]) * Double(v) }
                    bias[o] = Float(acc)
                    (lead + o * k).update(from: w + o * din, count: k)
                }
                ofk_pack_panels(lead, dout, k, panel)
                lead.deallocate()
            } else {
                ofk_pack_panels(w, dout, din, panel)
            }
            p.append(panel); b.append(bias)
        }
        panels = p; biases = b
    }
    deinit { for x in panels { x.deallocate() }; for x in biases { x.deallocate() } }
}

extension MLP where T == Float {
    /// Packs this network's weights in `params` for ``forwardPacked(_:input:rows:)``.
    public func packWeights(_ params: UnsafePointer<Float>) -> PackedWeights { PackedWeights(self, params: params) }

    /// Packs the weights with the last input columns fixed at `constantTail` (folded into the
    /// first bias; ``forwardPacked(_:input:rows:)`` then reads rows of the leading columns only).
    public func packWeights(_ params: UnsafePointer<Float>, constantTail: [Float]) -> PackedWeights {
        PackedWeights(self, params: params, constantTail: constantTail)
    }

    /// Inference forward over `rows` rows with packed weights: no BLAS call and no re-packing,
    /// so small batches (1–32 rows of policy inference) run at the arithmetic's speed; each
    /// row's output does not depend on the others (see ``ofk_gemm_packed``). The result lands
    /// in ``output`` as with ``forward(_:input:rows:tangentRows:derivatives:parallel:)``, and
    /// agrees with it to rounding (another summation order).
    ///
    /// `splitColumns` runs each layer as two halves of its output units, whole 16-unit panels
    /// each, on the two-worker pair (``Workers/pair(_:site:line:_:)``): each core then reads
    /// half of every weight matrix, so one caller's small batches (a single episode's
    /// decisions) use both cores' caches. Every unit's sum and activation is computed exactly
    /// as without the split, so the output is bit-identical. For a caller that has the second
    /// core to itself: rollout workers that already keep every core busy leave it off.
    public func forwardPacked(_ packed: PackedWeights, input: UnsafePointer<Float>, rows: Int, splitColumns: Bool = false) {
        precondition(rows <= maxRows, "MLP rows \(rows) exceed workspace \(maxRows)")
        precondition(packed.panels.count == dims.count - 1, "packed weights are for another network")
        var x = input
        for l in 0..<(dims.count - 1) {
            let din = l == 0 ? packed.inputWidth : dims[l], dout = dims[l + 1]
            let isOut = l == dims.count - 2
            let h = isOut ? output : pre[l], y: UnsafeMutablePointer<T>? = isOut ? nil : post[l]
            let panel = packed.panels[l], bias = packed.biases[l], activation = spec.activation
            // Units [c0, c1): panel c0/16 onwards (``ofk_pack_panels``: panel q holds k × 16 floats).
            func units(_ c0: Int, _ c1: Int) {
                ofk_gemm_packed(x, rows, din, din, panel + c0 * din, c1 - c0, bias + c0, h + c0, dout)
                guard let y else { return }
                if c0 == 0 && c1 == dout {
                    Kernels.activation(activation, h, rows: rows, cols: dout, bias: nil, y: y, d: nil)
                } else {
                    for r in 0..<rows {
                        Kernels.activation(activation, h + r * dout + c0, rows: 1, cols: c1 - c0, bias: nil, y: y + r * dout + c0, d: nil)
                    }
                }
            }
            let panels = (dout + 15) / 16
            if splitColumns && panels >= 2 {
                let mid = panels / 2 * 16
                Workers.pair(true, site: "MLP.forwardPacked units") { $0 == 0 ? units(0, mid) : units(mid, dout) }
            } else {
                units(0, dout)
            }
            if isOut { break }
            x = UnsafePointer(post[l])
        }
    }
}

/// Elementwise and row kernels used by ``MLP`` (loops over raw pointers, activation switch
/// hoisted out of the loops so each inner loop vectorises).
enum Kernels {
    /// Caps the C kernels' instruction set (0 portable, 1 AVX2+FMA, 2 AVX-512F; ``ofk_limit_isa``)
    /// and returns the level in use: for tests that compare the paths.
    @discardableResult
    static func limitInstructionSet(_ level: Int) -> Int { Int(ofk_limit_isa(Int32(level))) }

    static func addBias<T: NetScalar>(_ h: UnsafeMutablePointer<T>, rows: Int, cols: Int, bias: UnsafePointer<T>) {
        if T.self == Float.self {
            let h = h.floats, bias = UnsafeRawPointer(bias).assumingMemoryBound(to: Float.self)
            for r in 0..<rows {
                let row = h + r * cols
                for j in 0..<cols { row[j] += bias[j] }
            }
            return
        }
        for r in 0..<rows {
            let row = h + r * cols
            for j in 0..<cols { row[j] += bias[j] }
        }
    }

    static func multiply<T: NetScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, into c: UnsafeMutablePointer<T>, count: Int) {
        if T.self == Float.self {
            let a = UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), b = UnsafeRawPointer(b).assumingMemoryBound(to: Float.self)
            ofk_multiply(a, b, c.floats, count)
            return
        }
        for i in 0..<count { c[i] = a[i] * b[i] }
    }

    static func multiplyInPlace<T: NetScalar>(_ a: UnsafeMutablePointer<T>, _ b: UnsafePointer<T>, count: Int) {
        if T.self == Float.self {
            let a = a.floats, b = UnsafeRawPointer(b).assumingMemoryBound(to: Float.self)
            ofk_multiply(a, b, a, count)
            return
        }
        for i in 0..<count { a[i] *= b[i] }
    }

    /// out[j] = Σ_r x[r, j], rows in order (deterministic); `ld` is the row stride (default `cols`).
    static func columnSums<T: NetScalar>(_ x: UnsafePointer<T>, rows: Int, cols: Int, ld: Int? = nil,
                                         into out: UnsafeMutablePointer<T>) {
        let ld = ld ?? cols
        if T.self == Float.self {
            ofk_column_sums(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), rows, cols, ld, out.floats)
            return
        }
        out.update(repeating: 0, count: cols)
        for r in 0..<rows {
            let row = x + r * ld
            for j in 0..<cols { out[j] += row[j] }
        }
    }

    /// y = f(h + bias) on `rows` rows, and f′ into `d` when given. `h` is updated to h + bias.
    static func activation<T: NetScalar>(_ act: Activation, _ h: UnsafeMutablePointer<T>, rows: Int, cols: Int,
                                         bias: UnsafePointer<T>?, y: UnsafeMutablePointer<T>, d: UnsafeMutablePointer<T>?) {
        if T.self == Float.self, act == .mish {
            // Fused bias + Mish + derivative, AVX-512F or AVX2 when available (COFQLKernels).
            ofk_mish(h.floats, rows, cols, bias.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) },
                     y.floats, d?.floats)
            return
        }
        if let bias { addBias(h, rows: rows, cols: cols, bias: bias) }
        let n = rows * cols
        if T.self == Float.self {
            // Concrete Float loop: identical maths; keeps unoptimised (debug) builds usable.
            FloatKernels.activation(act, h.floats, n: n, y: y.floats, d: d?.floats)
            return
        }
        switch (act, d) {
        case (.mish, nil):
            for i in 0..<n { y[i] = ActivationMath.mishValue(h[i]) }
        case (.mish, let d?):
            for i in 0..<n { let (v, g) = ActivationMath.mish(h[i]); y[i] = v; d[i] = g }
        case (.relu, nil):
            for i in 0..<n { let v = h[i]; y[i] = v > 0 ? v : 0 }
        case (.relu, let d?):
            for i in 0..<n { let v = h[i]; y[i] = v > 0 ? v : 0; d[i] = v > 0 ? 1 : 0 }
        case (.gelu, nil):
            for i in 0..<n { y[i] = ActivationMath.gelu(h[i]).y }
        case (.gelu, let d?):
            for i in 0..<n { let (v, g) = ActivationMath.gelu(h[i]); y[i] = v; d[i] = g }
        case (.tanh, nil):
            for i in 0..<n { y[i] = ActivationMath.tanh(h[i]).y }
        case (.tanh, let d?):
            for i in 0..<n { let (v, g) = ActivationMath.tanh(h[i]); y[i] = v; d[i] = g }
        }
    }

    static let layerNormEps = 1e-5

    /// LayerNorm in place on primal rows (stores x̂ and 1/σ) and its JVP on the tangent rows
    /// that follow: ẏ = γ·(ẋ − mean ẋ − x̂·mean(ẋ·x̂))/σ.
    static func layerNormForward<T: NetScalar>(_ h: UnsafeMutablePointer<T>, rows: Int, tangentRows: Int, cols: Int,
                                               gamma: UnsafePointer<T>, beta: UnsafePointer<T>,
                                               xhat: UnsafeMutablePointer<T>, rstd: UnsafeMutablePointer<T>) {
        if T.self == Float.self {
            // Vectorised row reductions (eight partial sums; the same maths in another order).
            ofk_layernorm_forward(h.floats, rows, tangentRows, cols, UnsafeRawPointer(gamma).assumingMemoryBound(to: Float.self),
                                  UnsafeRawPointer(beta).assumingMemoryBound(to: Float.self), xhat.floats, rstd.floats,
                                  Float(layerNormEps))
            return
        }
        let invN = 1 / T(cols)
        for r in 0..<rows {
            let x = h + r * cols, xh = xhat + r * cols
            let mean = VectorMath.sum(x, cols) * invN
            var v: T = 0
            for j in 0..<cols { let c = x[j] - mean; v += c * c }
            let rs = 1 / (v * invN + T(layerNormEps)).squareRoot()
            rstd[r] = rs
            for j in 0..<cols {
                let n = (x[j] - mean) * rs
                xh[j] = n
                x[j] = gamma[j] * n + beta[j]
            }
        }
        for r in 0..<tangentRows {
            let xd = h + (rows + r) * cols, xh = xhat + r * cols
            let m1 = VectorMath.sum(xd, cols) * invN
            var m2: T = 0
            for j in 0..<cols { m2 += xd[j] * xh[j] }
            m2 *= invN
            let rs = rstd[r]
            for j in 0..<cols { xd[j] = gamma[j] * (xd[j] - m1 - xh[j] * m2) * rs }
        }
    }

    /// LayerNorm backward in place: dh ← ∂L/∂x given ∂L/∂y; accumulates nothing, overwrites dγ, dβ.
    static func layerNormBackward<T: NetScalar>(_ dh: UnsafeMutablePointer<T>, rows: Int, cols: Int, gamma: UnsafePointer<T>,
                                                xhat: UnsafePointer<T>, rstd: UnsafePointer<T>,
                                                dGamma: UnsafeMutablePointer<T>?, dBeta: UnsafeMutablePointer<T>?) {
        if T.self == Float.self {
            ofk_layernorm_backward(dh.floats, rows, cols, UnsafeRawPointer(gamma).assumingMemoryBound(to: Float.self),
                                   UnsafeRawPointer(xhat).assumingMemoryBound(to: Float.self),
                                   UnsafeRawPointer(rstd).assumingMemoryBound(to: Float.self), dGamma?.floats, dBeta?.floats)
            return
        }
        if let dGamma, let dBeta {
            dGamma.update(repeating: 0, count: cols); dBeta.update(repeating: 0, count: cols)
            for r in 0..<rows {
                let dy = dh + r * cols, xh = xhat + r * cols
                for j in 0..<cols { dGamma[j] += dy[j] * xh[j]; dBeta[j] += dy[j] }
            }
        }
        let invN = 1 / T(cols)
        for r in 0..<rows {
            let dy = dh + r * cols, xh = xhat + r * cols
            var m1: T = 0, m2: T = 0
            for j in 0..<cols { let g = dy[j] * gamma[j]; m1 += g; m2 += g * xh[j] }
            m1 *= invN; m2 *= invN
            let rs = rstd[r]
            for j in 0..<cols { dy[j] = (dy[j] * gamma[j] - m1 - xh[j] * m2) * rs }
        }
    }
}

extension UnsafeMutablePointer {
    /// Reinterprets a pointer known to hold Floats (only called after checking T == Float).
    @inline(__always) var floats: UnsafeMutablePointer<Float> { UnsafeMutableRawPointer(self).assumingMemoryBound(to: Float.self) }
}

/// Non-generic Float versions of the hottest loops (same maths as ``ActivationMath``).
enum FloatKernels {
    @inline(__always)
    static func mish(_ x: Float) -> (Float, Float) {
        let xc = x > 20 ? 20 : x
        let w = Float.expm(xc)
        let n = w * (w + 2)
        let inv = 1 / (n + 2)
        let omega = 4 * (xc + 1) + w * (4 * w + w * w + 4 * xc + 6)
        let y = x * n * inv, d = w * omega * inv * inv
        return x > 20 ? (x, 1) : (y, d)
    }

    static func activation(_ act: Activation, _ h: UnsafeMutablePointer<Float>, n: Int,
                           y: UnsafeMutablePointer<Float>, d: UnsafeMutablePointer<Float>?) {
        switch (act, d) {
        case (.mish, nil):
            for i in 0..<n {
                let x = h[i]
                let xc = x > 20 ? 20 : x
                let w = Float.expm(xc)
                let nn = w * (w + 2)
                let v = x * nn / (nn + 2)
                y[i] = x > 20 ? x : v
            }
        case (.mish, let d?):
            for i in 0..<n { let (v, g) = mish(h[i]); y[i] = v; d[i] = g }
        case (.relu, nil):
            for i in 0..<n { let v = h[i]; y[i] = v > 0 ? v : 0 }
        case (.relu, let d?):
            for i in 0..<n { let v = h[i]; y[i] = v > 0 ? v : 0; d[i] = v > 0 ? 1 : 0 }
        case (.tanh, _):
            for i in 0..<n {
                var x2 = 2 * h[i]
                x2 = x2 > 20 ? 20 : x2
                let v = 1 - 2 / (Float.expm(x2) + 1)
                y[i] = v
                d?[i] = 1 - v * v
            }
        case (.gelu, _):
            for i in 0..<n {
                let x = h[i]
                var a = 2 * 0.7978845608028654 * (x + 0.044715 * x * x * x)
                a = a > 20 ? 20 : a
                let th = 1 - 2 / (Float.expm(a) + 1)
                y[i] = 0.5 * x * (1 + th)
                d?[i] = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * 0.7978845608028654 * (1 + 3 * 0.044715 * x * x)
            }
        }
    }
}

/// Two-way fork–join for the training step's independent halves.
public enum Workers {
    /// Runs `body(0)` and `body(1)`: on the calling thread and a dedicated helper thread when
    /// `parallel` (the caller has set BLAS to one thread; ``ofk_pair_run``), else in order on
    /// this thread. The two calls must write disjoint memory. (A work-stealing pool such as
    /// `DispatchQueue.concurrentPerform` often ran both halves on the caller when its worker
    /// woke late: the helper spins between a step's fork–joins instead.)
    /// `site` and `line` name the call in ``profile(_:)``'s table.
    @inline(__always)
    public static func pair(_ parallel: Bool, site: StaticString = #fileID, line: UInt = #line, _ body: (Int) -> Void) {
        if parallel {
            withoutActuallyEscaping(body) { body in
                var task = body
                withUnsafeMutablePointer(to: &task) { p in
                    site.utf8Start.withMemoryRebound(to: CChar.self, capacity: 1) { name in
                        ofk_pair_run_at({ ctx, index in
                            ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(index))
                        }, UnsafeMutableRawPointer(p), name, UInt32(line))
                    }
                }
            }
        } else {
            body(0); body(1)
        }
    }

    /// One call site's fork–joins while profiling was on (seconds summed over `calls`).
    public struct SiteTiming: Sendable, Equatable {
        public var site: String
        /// `woken`: calls that found the helper asleep (it had spun out since the last fork).
        public var calls, woken: Int
        /// Fork to join on the calling thread; the caller's half (with posting the fork); the
        /// helper's half; the caller's wait for the helper after its own half.
        public var wall, caller, helper, wait: Double
    }

    /// Switches per-call-site timing of parallel ``pair(_:site:line:_:)`` calls on (clearing
    /// earlier records) or off. A call site's halves measured apart tell an uneven split (one
    /// half always longer) from a slow core (every site's helper, or caller, slower alike).
    public static func profile(_ on: Bool) { ofk_pair_profile(on ? 1 : 0) }

    /// The sites timed since ``profile(_:)`` switched timing on, in first-call order.
    public static func siteTimings() -> [SiteTiming] {
        var raw = [ofk_pair_site_stats](repeating: ofk_pair_site_stats(), count: Int(OFK_PAIR_SITES))
        let n = raw.withUnsafeMutableBufferPointer { ofk_pair_profile_read($0.baseAddress, $0.count) }
        return raw.prefix(n).map { s in
            SiteTiming(site: "\(s.site.map { String(cString: $0) } ?? "?"):\(s.line)", calls: Int(s.calls), woken: Int(s.woken),
                       wall: Double(s.wall_ns) / 1e9, caller: Double(s.caller_ns) / 1e9,
                       helper: Double(s.helper_ns) / 1e9, wait: Double(s.wait_ns) / 1e9)
        }
    }

    /// Runs `body` over `0..<count`, as two halves on the pair when `parallel` and `count` ≥
    /// `minimum`. The halves meet at a multiple of 64 elements, so a vectorised elementwise
    /// kernel (16 lanes at most) treats every element exactly as one call over the whole range.
    @inline(__always)
    public static func split(_ parallel: Bool, count: Int, minimum: Int = 1 << 14, site: StaticString = #fileID, line: UInt = #line,
                             _ body: (Range<Int>) -> Void) {
        guard parallel && count >= minimum else { body(0..<count); return }
        let mid = (count / 2) & ~63
        pair(true, site: site, line: line) { body($0 == 0 ? 0..<mid : mid..<count) }
    }
}
