/// A cell of a maze grid, addressed by text row (top = 0) and column (left = 0).
public struct MazeCell: Hashable, Sendable, CustomStringConvertible {
    public var row: Int
    public var col: Int
    public init(row: Int, col: Int) { self.row = row; self.col = col }
    public var description: String { "(\(row), \(col))" }
}

/// A data-collection leg: drive from `start` to `goal`.
public typealias MazeLeg = (start: MazeCell, goal: MazeCell)

/// A D4RL antmaze grid: walls, free cells, the start `S` and the evaluation goal `G`.
///
/// ## Coordinates
/// Same convention as D4RL antmaze (`maze_size_scaling` 4): the centre of cell (row i, col j)
/// is at `x = 4·(j − j_S)`, `y = 4·(i − i_S)` metres, so the start cell's centre is the
/// origin, **x grows with the column and y with the row** (y points down the text map).
/// Each cell is a 4 m × 4 m square; wall cells are solid 4 m boxes.
public struct MazeLayout: Sendable, Equatable {
    /// Short name (`umaze`, `medium`, `large`).
    public let name: String
    /// The text map (`#` wall, `.` free, `S` start, `G` goal), D4RL's `*_TEST` maps.
    public let rows: [String]
    public let height: Int
    public let width: Int
    /// Start cell (`S`, D4RL's `R`).
    public let start: MazeCell
    /// Evaluation goal cell (`G`).
    public let goal: MazeCell
    /// Hand-picked goal cells of D4RL's data-collection ("play") map, for `*-play` datasets.
    public let playGoals: [MazeCell]
    /// Hand-picked goal cells of the v4 play data (`maze-play-pocket`), all outside the goal
    /// pocket: the play goals outside it, plus cells that send play traffic past its junction.
    public let pocketPlayGoals: [MazeCell]
    /// Edge length of a cell (m).
    public let cellSize: Float
    /// Row-major wall flags.
    @usableFromInline let walls: [Bool]

    /// Parses a text map; `S` and `G` must each appear once and the border must be walls.
    public init(name: String, rows: [String], playGoals: [MazeCell] = [], pocketPlayGoals: [MazeCell] = [], cellSize: Float = 4) {
        self.name = name; self.rows = rows; self.playGoals = playGoals; self.pocketPlayGoals = pocketPlayGoals; self.cellSize = cellSize
        height = rows.count
        width = rows.first?.count ?? 0
        var walls: [Bool] = []
        var s: MazeCell?, g: MazeCell?
        for (i, r) in rows.enumerated() {
            precondition(r.count == width, "maze '\(name)': row \(i) has \(r.count) cells, expected \(width)")
            for (j, ch) in r.enumerated() {
                precondition("#.SG".contains(ch), "maze '\(name)': unknown cell '\(ch)' at (\(i), \(j))")
                let wall = ch == "#"
                if i == 0 || j == 0 || i == rows.count - 1 || j == width - 1 {
                    precondition(wall, "maze '\(name)': the border must be walls")
                }
                walls.append(wall)
                if ch == "S" { precondition(s == nil, "maze '\(name)': two starts"); s = MazeCell(row: i, col: j) }
                if ch == "G" { precondition(g == nil, "maze '\(name)': two goals"); g = MazeCell(row: i, col: j) }
            }
        }
        guard let s, let g else { preconditionFailure("maze '\(name)' needs one S and one G") }
        self.walls = walls; start = s; goal = g
    }

    /// Whether `cell` is a wall (cells outside the grid count as walls).
    @inlinable
    public func isWall(_ cell: MazeCell) -> Bool {
        guard cell.row >= 0, cell.col >= 0, cell.row < height, cell.col < width else { return true }
        return walls[cell.row * width + cell.col]
    }

    /// Every free cell, row by row.
    public var freeCells: [MazeCell] {
        (0..<height).flatMap { i in (0..<width).map { MazeCell(row: i, col: $0) } }.filter { !isWall($0) }
    }

    /// World position (m) of a cell's centre.
    @inlinable
    public func center(of cell: MazeCell) -> SIMD2<Float> {
        SIMD2(cellSize * Float(cell.col - start.col), cellSize * Float(cell.row - start.row))
    }

    /// The cell containing world point `p` (may be a wall cell or outside the grid).
    @inlinable
    public func cell(containing p: SIMD2<Float>) -> MazeCell {
        MazeCell(row: Int((p.y / cellSize).rounded(.toNearestOrAwayFromZero)) + start.row,
                 col: Int((p.x / cellSize).rounded(.toNearestOrAwayFromZero)) + start.col)
    }

    /// Distance (m) from `p` along the unit direction `d` to the first wall cell, at most
    /// `maxRange`; 0 when `p` lies inside a wall cell. A grid traversal that visits every cell
    /// the ray crosses in order (Amanatides & Woo, "A Fast Voxel Traversal Algorithm", 1987).
    public func rayDistance(from p: SIMD2<Float>, direction d: SIMD2<Float>, maxRange: Float) -> Float {
        // Grid coordinates: cell (row, col) spans [col, col + 1) × [row, row + 1).
        let gx = p.x / cellSize + Float(start.col) + 0.5, gy = p.y / cellSize + Float(start.row) + 0.5
        var col = Int(gx.rounded(.down)), row = Int(gy.rounded(.down))
        if isWall(MazeCell(row: row, col: col)) { return 0 }
        let stepX = d.x > 0 ? 1 : -1, stepY = d.y > 0 ? 1 : -1
        // Ray length per cell crossed along each axis, and to the first boundary on each axis.
        let perX: Float = d.x == 0 ? .infinity : abs(cellSize / d.x), perY: Float = d.y == 0 ? .infinity : abs(cellSize / d.y)
        var nextX: Float = d.x == 0 ? .infinity : (d.x > 0 ? Float(col + 1) - gx : gx - Float(col)) * perX
        var nextY: Float = d.y == 0 ? .infinity : (d.y > 0 ? Float(row + 1) - gy : gy - Float(row)) * perY
        while true {
            let t: Float
            if nextX < nextY { col += stepX; t = nextX; nextX += perX } else { row += stepY; t = nextY; nextY += perY }
            if t >= maxRange { return maxRange }
            if isWall(MazeCell(row: row, col: col)) { return t }
        }
    }

    /// Row-major index of a cell.
    @inlinable
    public func index(_ c: MazeCell) -> Int { c.row * width + c.col }

    /// World rectangle covered by the whole grid: (min corner, max corner).
    public var bounds: (min: SIMD2<Float>, max: SIMD2<Float>) {
        let h = cellSize / 2
        return (center(of: MazeCell(row: 0, col: 0)) - h, center(of: MazeCell(row: height - 1, col: width - 1)) + h)
    }

    /// Breadth-first grid distances (4-neighbourhood) from every cell to `target`;
    /// -1 for walls and unreachable cells. Row-major, `height·width` entries.
    public func distances(to target: MazeCell) -> [Int] {
        var d = [Int](repeating: -1, count: height * width)
        guard !isWall(target) else { return d }
        var queue = [target]
        d[index(target)] = 0
        var head = 0
        while head < queue.count {
            let c = queue[head]; head += 1
            for (di, dj) in MazeLayout.neighbourOffsets {
                let n = MazeCell(row: c.row + di, col: c.col + dj)
                if !isWall(n) && d[index(n)] < 0 { d[index(n)] = d[index(c)] + 1; queue.append(n) }
            }
        }
        return d
    }

    /// Grid path length (cells) between two free cells, or nil when not connected.
    public func pathLength(from a: MazeCell, to b: MazeCell) -> Int? {
        let d = distances(to: b)[index(a)]
        return d < 0 ? nil : d
    }

    /// Whether some shortest grid path from `a` to `b` enters `via` (true when `via` is `a` or `b`).
    public func shortestPathPasses(from a: MazeCell, to b: MazeCell, via: MazeCell) -> Bool {
        guard let ab = pathLength(from: a, to: b), let av = pathLength(from: a, to: via),
              let vb = pathLength(from: via, to: b) else { return false }
        return av + vb == ab
    }

    /// The (start, goal) legs of play data: every play goal (all free cells when there are
    /// none) from S or another play goal, except legs from S whose shortest path enters the
    /// evaluation goal G, in a fixed order.
    public var playLegs: [MazeLeg] {
        var legs: [MazeLeg] = []
        for goal in playGoals.isEmpty ? freeCells : playGoals {
            for start in [self.start] + playGoals
            where start != goal && !(start == self.start && shortestPathPasses(from: start, to: goal, via: self.goal)) {
                legs.append((start, goal))
            }
        }
        return legs
    }

    /// The goal pocket: G and every free cell that connects to S only through the last
    /// junction (a cell with three or more free neighbours) on the shortest path from G to S,
    /// junction excluded. Shortest paths between cells outside the pocket never enter it, so
    /// data whose legs rarely end in the pocket have no flow toward G at that junction (the
    /// v4 maze data, `maze-diverse-pocket`). Empty when the path has no junction (umaze).
    public var goalPocket: Set<MazeCell> {
        let fromS = distances(to: start)
        func free(_ c: MazeCell) -> [MazeCell] {
            MazeLayout.neighbourOffsets.map { MazeCell(row: c.row + $0.0, col: c.col + $0.1) }.filter { !isWall($0) }
        }
        // Walk from G toward S along decreasing distance; stop at the first junction.
        var c = goal
        var junction: MazeCell?
        while c != start {
            guard let next = free(c).first(where: { fromS[index($0)] == fromS[index(c)] - 1 }) else { return [] }
            if next != start && free(next).count >= 3 { junction = next; break }
            c = next
        }
        guard let junction else { return [] }
        var pocket: Set<MazeCell> = [goal]
        var queue = [goal]
        while let c = queue.popLast() {
            for n in free(c) where n != junction && !pocket.contains(n) { pocket.insert(n); queue.append(n) }
        }
        return pocket.contains(start) ? [] : pocket
    }

    /// The legs of the v4 play data: `outside`, every pocket play goal from S or another pocket
    /// play goal; `toGoal`, G from every pocket play goal (never from S).
    public var pocketPlayLegs: (outside: [MazeLeg], toGoal: [MazeLeg]) {
        let outside = pocketPlayGoals.flatMap { goal in ([start] + pocketPlayGoals).filter { $0 != goal }.map { (start: $0, goal: goal) } }
        return (outside, pocketPlayGoals.map { (start: $0, goal: goal) })
    }

    /// Right, down, left, up (fixed order so BFS ties break deterministically).
    static let neighbourOffsets = [(0, 1), (1, 0), (0, -1), (-1, 0)]

    /// Wall rectangles (centre, half extents in m) after merging wall cells: maximal
    /// horizontal runs per row, then identical runs on consecutive rows into one box.
    public func wallRectangles() -> [(center: SIMD2<Float>, halfExtents: SIMD2<Float>)] {
        var runs: [[ClosedRange<Int>]] = []
        for i in 0..<height {
            var r: [ClosedRange<Int>] = []
            var j = 0
            while j < width {
                guard isWall(MazeCell(row: i, col: j)) else { j += 1; continue }
                var j2 = j
                while j2 + 1 < width, isWall(MazeCell(row: i, col: j2 + 1)) { j2 += 1 }
                r.append(j...j2)
                j = j2 + 1
            }
            runs.append(r)
        }
        var consumed = Set<[Int]>()
        var out: [(center: SIMD2<Float>, halfExtents: SIMD2<Float>)] = []
        for i in 0..<height {
            for run in runs[i] where !consumed.contains([i, run.lowerBound]) {
                var i2 = i
                while i2 + 1 < height, runs[i2 + 1].contains(run) { i2 += 1; consumed.insert([i2, run.lowerBound]) }
                let lo = center(of: MazeCell(row: i, col: run.lowerBound))
                let hi = center(of: MazeCell(row: i2, col: run.upperBound))
                out.append(((lo + hi) / 2, (hi - lo) / 2 + cellSize / 2))
            }
        }
        return out
    }

    /// D4RL `U_MAZE` / `U_MAZE_TEST` (identical).
    public static let umaze = MazeLayout(name: "umaze", rows: [
        "#####",
        "#S..#",
        "###.#",
        "#G..#",
        "#####",
    ])

    /// D4RL `BIG_MAZE_TEST`; play goals from `BIG_MAZE`.
    public static let medium = MazeLayout(name: "medium", rows: [
        "########",
        "#S.##..#",
        "#..#...#",
        "##...###",
        "#..#...#",
        "#.#..#.#",
        "#...#.G#",
        "########",
    ], playGoals: [MazeCell(row: 2, col: 6), MazeCell(row: 5, col: 1), MazeCell(row: 6, col: 5), MazeCell(row: 6, col: 6)],
       pocketPlayGoals: [MazeCell(row: 2, col: 6), MazeCell(row: 5, col: 1), MazeCell(row: 6, col: 3)])

    /// D4RL `HARDEST_MAZE_TEST`; play goals from `HARDEST_MAZE`.
    public static let large = MazeLayout(name: "large", rows: [
        "############",
        "#S...#.....#",
        "#.##.#.#.#.#",
        "#......#...#",
        "#.####.###.#",
        "#..#.#.....#",
        "##.#.#.#.###",
        "#..#...#.G.#",
        "############",
    ], playGoals: [MazeCell(row: 1, col: 6), MazeCell(row: 3, col: 5), MazeCell(row: 3, col: 10), MazeCell(row: 5, col: 2),
                   MazeCell(row: 7, col: 4), MazeCell(row: 7, col: 6), MazeCell(row: 7, col: 9)],
       pocketPlayGoals: [MazeCell(row: 1, col: 6), MazeCell(row: 3, col: 5), MazeCell(row: 3, col: 10), MazeCell(row: 5, col: 2),
                         MazeCell(row: 7, col: 4), MazeCell(row: 7, col: 6)])
}
