// find_clip_vocab: where the CLIP vocabulary comes from (flag, env, models dir, beside the checkpoint).
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/text/clip_tokenizer.h"
#include "engine/text/vocab_loader.h"

namespace vkf::text {
namespace fs = std::filesystem;

fs::path find_clip_vocab(const std::optional<fs::path>& cli_flag, const fs::path& models_dir,
                         const fs::path& checkpoint) {
  std::error_code ec;
  // An explicitly named vocabulary that is missing is a mistake to report, not to paper over.
  if (cli_flag && !cli_flag->empty()) {
    if (fs::exists(*cli_flag, ec)) return *cli_flag;
    throw TokenizerError("--clip-vocab '" + cli_flag->string() + "' does not exist");
  }
  if (const char* env = std::getenv("VKFLOW_CLIP_VOCAB"); env && *env) {
    if (fs::exists(env, ec)) return fs::path(env);
    throw TokenizerError(std::string("VKFLOW_CLIP_VOCAB='") + env + "' does not exist");
  }
  std::vector<fs::path> tried;
  if (!models_dir.empty()) {
    const fs::path dir = models_dir / "clip_vocab";
    tried.push_back(dir / "");
    if (fs::is_directory(dir, ec) && vocab_file_in_directory(dir)) return dir;
  }
  if (!checkpoint.empty()) {
    const fs::path dir = checkpoint.parent_path();
    for (const fs::path& name : {fs::path(checkpoint.stem().string() + ".vocab.json"), fs::path("vocab.json"),
                                 fs::path("merges.txt"), fs::path("bpe_simple_vocab_16e6.txt.gz")}) {
      const fs::path p = dir / name;
      tried.push_back(p);
      if (fs::is_regular_file(p, ec)) return p;
    }
  }
  std::string msg =
      "CLIP tokenizer vocabulary not found. Put openai/CLIP's bpe_simple_vocab_16e6.txt.gz (or a Hugging Face "
      "vocab.json + merges.txt) into " +
      (models_dir.empty() ? std::string("<models-dir>/clip_vocab/") : (models_dir / "clip_vocab" / "").string()) +
      ", or pass --clip-vocab PATH, or set VKFLOW_CLIP_VOCAB. Tried: --clip-vocab (not given), "
      "VKFLOW_CLIP_VOCAB (not set)";
  for (const fs::path& p : tried) msg += ", " + p.string();
  throw TokenizerError(msg);
}

}  // namespace vkf::text
