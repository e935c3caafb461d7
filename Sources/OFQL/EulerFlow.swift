import BLAS
import Randomness

/// A flow-matching policy v(s, x, t) in FQL's time convention (Park, Li & Levine 2025,
/// arXiv 2502.02538, §3; Lipman et al. 2023): x_0 is the noise, x_1 the action,
/// x_t = (1 − t)x_0 + t·x_1, target velocity x_1 − x_0, raw t as the last input ([s, x, t]).
/// Its actions are K Euler steps x ← x + v(s, x, k/K)/K from x = z, clipped to [−1, 1]
/// (FQL's `compute_flow_actions`).
///
/// Holds the network for the BC loss and `workspaces` copies at the same parameter offsets:
/// with one, the Euler steps reuse it (no gradient); with K, every step keeps its activations
/// so ``backward(_:grads:scratch:dAction:count:)`` back-propagates through the whole chain
/// (FBRAC's actor loss).
final class EulerFlow<T: NetScalar> {
    let spec: MLPSpec
    let obsDim: Int, actDim: Int, rows: Int
    let steps: Int
    let net: MLP<T>
    let chain: [MLP<T>]
    /// The network's parameters in the block.
    let range: Range<Int>
    /// The BC loss's input and gradient; per step the input and the state x (index K: the
    /// chain's output before its clip).
    let bcInput, dV, inputs, xs, g: UnsafeMutablePointer<T>
    private let work = Workspace<T>()

    init(_ spec: MLPSpec, obsDim: Int, actDim: Int, steps: Int, prefix: String, layout: inout ParameterLayout, rows: Int,
         workspaces: Int = 1) {
        precondition(spec.inputDim == obsDim + actDim + 1 && spec.outputDim == actDim && steps >= 1)
        precondition(workspaces == 1 || workspaces == steps, "one workspace, or one per Euler step")
        self.spec = spec; self.obsDim = obsDim; self.actDim = actDim; self.rows = rows; self.steps = steps
        let start = layout
        net = MLP(spec, prefix: prefix, layout: &layout, maxRows: rows)
        range = start.count..<layout.count
        chain = workspaces == 1 ? [net] : (0..<workspaces).map { _ in
            var l = start
            return MLP(spec, prefix: prefix, layout: &l, maxRows: rows)
        }
        let alloc = { [work] (n: Int) in work.alloc(n) }
        let w = spec.inputDim, A = actDim, nIn = workspaces == 1 ? 1 : steps
        bcInput = alloc(rows * w); dV = alloc(rows * A); inputs = alloc(nIn * rows * w); xs = alloc((steps + 1) * rows * A)
        g = alloc(rows * A)
    }

    /// Flow matching with x_1 = a: mean over rows and action dims of
    /// (v(s, (1 − t)x_0 + t·a, t) − (a − x_0))²; writes ∂/∂ψ into `grads` (the network's slice).
    func bcLoss(_ params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>, s: UnsafePointer<T>, a: UnsafePointer<T>,
                x0: UnsafePointer<T>, t: UnsafePointer<T>, count: Int, parallel: Bool = false) -> T {
        let O = obsDim, A = actDim, w = spec.inputDim
        for b in 0..<count {
            let row = bcInput + b * w
            row.update(from: s + b * O, count: O)
            for j in 0..<A { row[O + j] = (1 - t[b]) * x0[b * A + j] + t[b] * a[b * A + j] }
            row[O + A] = t[b]
        }
        net.forward(params, input: bcInput, rows: count, derivatives: true, parallel: parallel)
        let denom = T(count * A)
        var loss: T = 0
        for k in 0..<(count * A) {
            let d = net.output[k] - (a[k] - x0[k])
            loss += d * d
            dV[k] = 2 * d / denom
        }
        net.backward(params, grads: grads, rows: count, dOutput: dV, inputGrad: false, parallel: parallel)
        return loss / denom
    }

    /// K Euler steps from `z` into `out` (clipped). With `derivatives` (K workspaces) every step
    /// keeps its activations for ``backward``; `packed` (the network's packed weights, one
    /// workspace) serves small inference batches.
    func sample(_ params: UnsafePointer<T>, s: UnsafePointer<T>, z: UnsafePointer<T>, count: Int, derivatives: Bool,
                packed: PackedWeights? = nil, parallel: Bool = false, into out: UnsafeMutablePointer<T>) {
        precondition(count <= rows && (!derivatives || chain.count == steps), "Euler flow: \(count) rows, derivatives \(derivatives)")
        let O = obsDim, A = actDim, K = steps, w = spec.inputDim
        xs.update(from: z, count: count * A)
        for k in 0..<K {
            let m = chain.count == 1 ? chain[0] : chain[k]
            let input = inputs + (chain.count == 1 ? 0 : k * rows * w)
            let x = xs + k * rows * A, next = xs + (k + 1) * rows * A
            for i in 0..<count {
                let row = input + i * w
                row.update(from: s + i * O, count: O)
                (row + O).update(from: x + i * A, count: A)
                row[O + A] = T(k) / T(K)
            }
            if let packed, let fm = m as? MLP<Float> {
                fm.forwardPacked(packed, input: UnsafeRawPointer(input).assumingMemoryBound(to: Float.self), rows: count)
            } else {
                m.forward(params, input: input, rows: count, derivatives: derivatives, parallel: parallel)
            }
            for i in 0..<(count * A) { next[i] = x[i] + m.output[i] / T(K) }
        }
        let last = xs + K * rows * A
        for i in 0..<(count * A) { out[i] = EulerFlow.clip(last[i]) }
    }

    /// Back-propagates ∂L/∂action (after the clip) of the last ``sample`` with `derivatives`
    /// through the K steps, adding ∂L/∂ψ into `grads` (`scratch`: a gradient buffer of the
    /// block's size).
    func backward(_ params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>,
                  dAction: UnsafePointer<T>, count: Int, parallel: Bool = false) {
        let A = actDim, K = steps, w = spec.inputDim, O = obsDim
        let last = xs + K * rows * A
        for k in 0..<(count * A) { g[k] = last[k] >= -1 && last[k] <= 1 ? dAction[k] : 0 }
        for k in stride(from: K - 1, through: 0, by: -1) {
            // x_{k+1} = x_k + v(s, x_k, k/K)/K.
            for i in 0..<(count * A) { dV[i] = g[i] / T(K) }
            chain[k].backward(params, grads: scratch, rows: count, dOutput: dV, inputGrad: true, parallel: parallel)
            for p in range { grads[p] += scratch[p] }
            for i in 0..<count {
                for j in 0..<A { g[i * A + j] += chain[k].dInput[i * w + O + j] }
            }
        }
    }

    /// GEMM multiply–adds of one row through the K steps.
    var macsPerSample: Double { Double(steps) * Double(spec.macsPerRow) }

    @inline(__always) static func clip(_ v: T) -> T { v < -1 ? -1 : (v > 1 ? 1 : v) }
}
